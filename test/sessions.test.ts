import { decodeJwt } from 'jose';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { Session } from '../src/modules/auth/session.entity';
import { User } from '../src/modules/users/user.entity';
import { failure, gql, ok } from './support/graphql';
import { closedWithin, closingClient, subscribe, until, untilSubscribed } from './support/live';
import { QueryCounter } from './support/query-counter';
import { TEST_REDIS_URL } from './support/redis';
import type { TestServer } from './support/server';
import { untilLinked, useTwoInstances } from './support/two-instances';
import { asRecipient, PASSWORD, signIn, useLiveWorld, World, type Person } from './support/world';

// Sessions (issue 17): a token of `login` names a session; signing out ends it,
// signing out everywhere ends all of the person's, changing the password ends
// all the others. An ended session is refused at once over HTTP, and its open
// sockets are closed (4401) on every instance. Disabling and enabling an
// account: revocation.test.ts. Identity-provider tokens: oidc.test.ts.

const UNAUTHENTICATED_CLOSE = 4401;
const ENDED = 'This session has ended: sign in again';
const ME = '{ me { id } }';
const SIGN_OUT = 'mutation { signOut }';
const SIGN_OUT_EVERYWHERE = 'mutation { signOutEverywhere }';
const CHANGE_PASSWORD = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
const MESSAGE_ADDED = 'subscription { messageAdded { body } }';
const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`;

const counter = new QueryCounter();
// The outbox relay and the escalation poller run on their own clocks; ones longer than the tests keep them out of the statement count.
const env = useLiveWorld({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '1000', OUTBOX_RELAY_MS: '600000', ESCALATION_POLL_MS: '3600000' }, { queryLogger: counter });
const { clients } = env;

/** Another session of `person` (a second device). */
const again = async (person: Person, on: Pick<TestServer, 'url'> = env.server): Promise<string> => (await signIn(on.url, person.email, PASSWORD)).token;

/** A socket of `token` on `target` listening to messageAdded, and how it closed. */
function online(target: TestServer, token: string) {
  const connection = closingClient(target.wsUrl, token);
  clients.push(connection.client);
  return { ...subscribe<{ messageAdded: { body: string } }>(connection.client, MESSAGE_ADDED), ...connection };
}

const refusal = async (token: string, on: Pick<TestServer, 'url'> = env.server) => {
  const { message, extensions } = await failure(on.url, ME, {}, token);
  return { message, code: extensions?.code };
};
const endedRefusal = { message: ENDED, code: 'UNAUTHENTICATED' };

/** What `person` was audited doing to their own account. */
const audited = async (person: Person) =>
  (await env.server.app.db.getRepository(AuditEvent).find({ where: { subjectUserId: person.id, actorId: person.id }, order: { id: 'ASC' } })).map((e) => e.action);

const sessionsOf = (person: Person) => env.server.app.db.getRepository(Session).countBy({ userId: person.id });

describe('a token of login', () => {
  test('names a session of its own: each sign-in begins another', async () => {
    const ann = await env.world.professional('Session Ann');
    const second = await again(ann);
    expect(decodeJwt(second).sid).not.toEqual(decodeJwt(ann.token).sid);
    expect(await sessionsOf(ann)).toBe(2);
  });

  test('is checked with one SQL statement per request: the user and its session, by their keys', async () => {
    const bob = await env.world.professional('Session Bob');
    counter.reset();
    await env.world.as(bob, ME);
    expect(counter.statements).toHaveLength(1);
    expect(counter.statements[0]).toMatch(/"sessions"/);
  });

  test('a sign-in forgets the expired sessions of its user', async () => {
    const cleo = await env.world.professional('Session Cleo');
    const past = new Date(Date.now() - 1000);
    await env.server.app.db.getRepository(Session).insert({ id: '00000000-0000-4000-8000-00000000c1e0', userId: cleo.id, createdAt: past, expiresAt: past });
    expect(await sessionsOf(cleo)).toBe(2);
    await again(cleo);
    expect(await sessionsOf(cleo)).toBe(2);
    expect(await env.server.app.db.getRepository(Session).existsBy({ id: '00000000-0000-4000-8000-00000000c1e0' })).toBe(false);
  });
});

describe('signOut', () => {
  test("ends the request's session at once: its token is refused, its sockets closed (4401), the person's other sessions untouched", async () => {
    const dan = await env.world.professional('Signing Out Dan');
    const colleague = await env.world.professional('Signing Out Colleague');
    const tablet = await again(dan);
    const leaving = [online(env.server, dan.token), online(env.server, dan.token)];
    const staying = online(env.server, tablet);
    await untilSubscribed(env.server, 3);

    const signedOutAt = Date.now();
    expect(await env.world.as(dan, SIGN_OUT)).toEqual({ signOut: true });
    for (const socket of leaving) {
      const closed = await closedWithin(socket.closed, 1000);
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Signed out' });
      expect(closed.at - signedOutAt).toBeLessThan(1000);
    }
    expect(await refusal(dan.token)).toEqual(endedRefusal);
    // A new socket with the token is refused too.
    expect((await closedWithin(online(env.server, dan.token).closed, 3000)).code).toBe(UNAUTHENTICATED_CLOSE);

    // The other session goes on, over HTTP and live.
    expect((await ok(env.server.url, ME, {}, tablet)).me.id).toBe(dan.id);
    await env.world.thread(colleague, [asRecipient(dan)], 'after the sign-out');
    expect((await staying.waitFor(1)).map((r) => r.messageAdded.body)).toEqual(['after the sign-out']);
    await until(() => env.server.app.liveSessions.size === 1);
  });

  test('is audited as SIGNED_OUT by the person; signing out with the ended token again is UNAUTHENTICATED and writes nothing', async () => {
    const eve = await env.world.professional('Signing Out Eve');
    await env.world.as(eve, SIGN_OUT);
    expect((await gql(env.server.url, SIGN_OUT, {}, eve.token)).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await audited(eve)).toEqual(['SIGNED_OUT']);
  });
});

describe('signOutEverywhere', () => {
  test("ends every session of the person, the request's own included, on HTTP and live; one begun after works", async () => {
    const fay = await env.world.professional('Everywhere Fay');
    const other = await env.world.professional('Everywhere Other');
    const tokens = [fay.token, await again(fay), await again(fay)];
    const sockets = tokens.map((token) => online(env.server, token));
    const bystander = online(env.server, other.token);
    await untilSubscribed(env.server, 4);

    expect(await env.world.as(fay, SIGN_OUT_EVERYWHERE)).toEqual({ signOutEverywhere: 3 });
    for (const socket of sockets) {
      const closed = await closedWithin(socket.closed, 1000);
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Signed out everywhere' });
    }
    for (const token of tokens) expect(await refusal(token)).toEqual(endedRefusal);
    expect(await sessionsOf(fay)).toBe(0);

    const later = await again(fay);
    expect((await ok(env.server.url, ME, {}, later)).me.id).toBe(fay.id);
    // Someone else's socket stayed open.
    await env.world.thread(env.world.admin, [asRecipient(other)], 'still here');
    expect((await bystander.waitFor(1)).map((r) => r.messageAdded.body)).toEqual(['still here']);
    expect(await audited(fay)).toEqual(['SIGNED_OUT_EVERYWHERE']);
  });
});

describe('changePassword', () => {
  const change = (who: Person, current: string, next: string, token = who.token) => gql(env.server.url, CHANGE_PASSWORD, { c: current, n: next }, token);

  test('stores the new password hashed, keeps this session and ends every other one, on HTTP and live', async () => {
    const gil = await env.world.professional('Changing Gil');
    const phone = await again(gil);
    const here = online(env.server, gil.token);
    const there = online(env.server, phone);
    await untilSubscribed(env.server, 2);

    expect((await change(gil, PASSWORD, 'a-new-password-9')).data).toEqual({ changePassword: true });
    const closed = await closedWithin(there.closed, 1000);
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Password changed' });
    expect(await refusal(phone)).toEqual(endedRefusal);
    expect((await ok(env.server.url, ME, {}, gil.token)).me.id).toBe(gil.id);
    await env.world.thread(env.world.admin, [asRecipient(gil)], 'to the session that changed it');
    expect((await here.waitFor(1)).map((r) => r.messageAdded.body)).toEqual(['to the session that changed it']);

    // The old password is refused, the new one signs in; it is stored as a scrypt hash, never as given.
    expect((await gql(env.server.url, LOGIN, { e: gil.email, p: PASSWORD })).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await signIn(env.server.url, gil.email, 'a-new-password-9')).user.id).toBe(gil.id);
    const { passwordHash } = await env.server.app.db.getRepository(User).findOneByOrFail({ id: gil.id });
    expect(passwordHash).toMatch(/^scrypt\$\d+\$/);
    expect(passwordHash).not.toContain('a-new-password-9');
    expect(await audited(gil)).toEqual(['PASSWORD_CHANGED']);
  });

  test('a wrong current password or a new one outside 8..200 characters is BAD_USER_INPUT and changes nothing', async () => {
    const hal = await env.world.professional('Changing Hal');
    const phone = await again(hal);
    const refusals = [
      await change(hal, 'not-the-password', 'a-new-password-9'),
      await change(hal, PASSWORD, 'short'),
      await change(hal, PASSWORD, 'x'.repeat(201)),
    ];
    expect(refusals.map((r) => ({ code: r.errors?.[0].extensions?.code, message: r.errors?.[0].message }))).toEqual([
      { code: 'BAD_USER_INPUT', message: 'The current password is wrong' },
      { code: 'BAD_USER_INPUT', message: expect.stringContaining('password must be 8 to 200 characters') },
      { code: 'BAD_USER_INPUT', message: expect.stringContaining('password must be 8 to 200 characters') },
    ]);
    expect((await ok(env.server.url, ME, {}, phone)).me.id).toBe(hal.id);
    expect((await signIn(env.server.url, hal.email, PASSWORD)).user.id).toBe(hal.id);
    expect(await audited(hal)).toEqual([]);
  });

  test('a wrong current password counts as a failed sign-in: the account locks, even for the right one', async () => {
    const ida = await env.world.professional('Changing Ida');
    const codes = [];
    for (let n = 0; n < 4; n++) codes.push((await change(ida, `wrong-password-${n}`, 'a-new-password-9')).errors?.[0].extensions?.code);
    expect(codes).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    expect((await change(ida, PASSWORD, 'a-new-password-9')).errors?.[0].extensions?.code).toBe('TOO_MANY_REQUESTS');
    expect((await gql(env.server.url, LOGIN, { e: ida.email, p: PASSWORD })).errors?.[0].extensions?.code).toBe('TOO_MANY_REQUESTS');
  });
});

describe('across instances', () => {
  const instances = useTwoInstances('sessions', { clients });

  test('signing out through one instance closes the session\'s socket on the other with 4401 at once; the other session\'s stays', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a, b } = instances;
    const worldA = await World.create(a);
    const jo = await worldA.professional('Remote Jo');
    const doctor = await worldA.professional('Remote Doctor');
    const tablet = await again(jo, a);
    const threadId = await worldA.thread(doctor, [asRecipient(jo)], 'first');
    const leaving = online(b, jo.token);
    const staying = online(b, tablet);
    await untilSubscribed(b, 2);
    await untilLinked((n) => worldA.send(doctor, threadId, `probe ${n}`), () => leaving.received.length > 0);

    const signedOutAt = Date.now();
    await worldA.as(jo, SIGN_OUT);
    const closed = await closedWithin(leaving.closed, 2000);
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Signed out' });
    expect(closed.at - signedOutAt).toBeLessThan(2000);
    expect(await refusal(jo.token, b)).toEqual(endedRefusal);

    const before = leaving.received.length;
    await worldA.send(doctor, threadId, 'after the sign-out');
    await until(() => staying.received.some((r) => r.messageAdded.body === 'after the sign-out'), 5000);
    expect(leaving.received).toHaveLength(before);
    expect(b.app.liveSessions.size).toBe(1);
  });
});
