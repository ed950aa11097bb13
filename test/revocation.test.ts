import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { decodeJwt, SignJWT } from 'jose';
import { In } from 'typeorm';
import { Initial1764000000000 } from '../src/migrations/1764000000000-initial';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { TeamMember } from '../src/modules/teams/team-member.entity';
import { Participant } from '../src/modules/threads/participant.entity';
import { User } from '../src/modules/users/user.entity';
import { failure, gql, ok } from './support/graphql';
import { closedWithin, closingClient, openClient, subscribe, until, untilSubscribed, type Closed, type Feed } from './support/live';
import { offered } from './support/recipients';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { earlierRelease } from './support/earlier-release';
import { sharedDatabase } from './support/shared-database';
import { untilLinked, useTwoInstances } from './support/two-instances';
import { asRecipient, useLiveWorld, World, type Person } from './support/world';
import { CreateThreadDocument, SendMessageDocument, type RecipientInput } from '../web/gql/graphql';

// Revocation (issue 3): an account an admin disables, and a token that expires,
// stop working at once, over HTTP and on open graphql-ws sockets (closed with
// 4401), and a disabled account is never a recipient.

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret-0123');
const PASSWORD = 'revocation-pass-1';
const UNAUTHENTICATED_CLOSE = 4401;

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id disabled } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id name } }`;
const SET_DISABLED = `mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id name disabled } }`;
const ADD_PARTICIPANTS = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id participants { user { id } } } }`;
const MESSAGE_ADDED = 'subscription { messageAdded { id body } }';
const revocationThread = (recipients: RecipientInput[]) => ({ subject: 'Revocation', body: 'Hello', recipients });
const ME = '{ me { id disabled } }';

interface Added {
  messageAdded: { id: string; body: string };
}

/** A person this file can log in as. */
type Account = Person & { password: string };

const env = useLiveWorld();
const { clients } = env;

let accounts = 0;

/** A user created by the admin, with a password this file knows. */
async function account(on: World, name: string, input: { kind?: 'PATIENT' | 'PROFESSIONAL'; contactable?: boolean; isAdmin?: boolean } = {}): Promise<Account> {
  const email = `revocation${++accounts}-${randomBytes(3).toString('hex')}@test.example`;
  const { createUser } = await on.as(on.admin, CREATE_USER, {
    input: { email, name, password: PASSWORD, kind: input.kind ?? 'PROFESSIONAL', contactable: input.contactable ?? true, isAdmin: input.isAdmin ?? false },
  });
  const { login } = await ok(on.server.url, LOGIN, { email, password: PASSWORD });
  return { id: createUser.id, name, email, password: PASSWORD, token: login.token };
}

const setDisabled = (on: World, person: Person, disabled: boolean, actor: Person = on.admin) =>
  gql(on.server.url, SET_DISABLED, { u: person.id, d: disabled }, actor.token);

async function disable(on: World, person: Person): Promise<void> {
  const { errors } = await setDisabled(on, person, true);
  if (errors) throw new Error(`could not disable: ${JSON.stringify(errors)}`);
}

const login = (on: World, who: Account, password = who.password) => gql(on.server.url, LOGIN, { email: who.email, password });

function online(target: TestServer, token: string): { client: Client; closed: Promise<Closed> } {
  const connection = closingClient(target.wsUrl, token);
  clients.push(connection.client);
  return connection;
}

/** `token` listens to messageAdded on `target`. */
function listen(target: TestServer, token: string): Feed<Added> & { client: Client; closed: Promise<Closed> } {
  const connection = online(target, token);
  return { ...subscribe<Added>(connection.client, MESSAGE_ADDED), ...connection };
}

const bodies = (feed: Feed<Added>) => feed.received.map((r) => r.messageAdded.body);

async function send(on: World, author: Person, threadId: string, body: string): Promise<void> {
  await on.as(author, SendMessageDocument, { threadId, body });
}

const auditOf = (person: Person) =>
  env.server.app.db.getRepository(AuditEvent).find({ where: { subjectUserId: person.id }, order: { id: 'ASC' } });

describe('an account an admin disables', () => {
  test('cannot log in: UNAUTHENTICATED "This account is disabled", and only once the password was right', async () => {
    const dana = await account(env.world, 'Disabled Dana');
    const { data } = await setDisabled(env.world, dana, true);
    expect(data.setUserDisabled).toEqual({ id: dana.id, name: 'Disabled Dana', disabled: true });

    const refused = await failure(env.server.url, LOGIN, { email: dana.email, password: dana.password });
    expect(refused).toMatchObject({ message: 'This account is disabled', extensions: { code: 'UNAUTHENTICATED' } });
    // A wrong password learns nothing about the account.
    const wrong = await failure(env.server.url, LOGIN, { email: dana.email, password: 'not-the-password' });
    expect(wrong).toMatchObject({ message: 'Wrong email or password', extensions: { code: 'UNAUTHENTICATED' } });
  });

  test('its existing token stops working at once, over HTTP and for a new websocket', async () => {
    const eve = await account(env.world, 'Token Eve');
    expect((await env.world.as(eve, ME)).me).toEqual({ id: eve.id, disabled: false });

    await disable(env.world, eve);

    const refused = await failure(env.server.url, ME, {}, eve.token);
    expect(refused).toMatchObject({ message: 'This account is disabled', extensions: { code: 'UNAUTHENTICATED' } });
    const { errors } = await gql(env.server.url, CreateThreadDocument, revocationThread([{ userId: env.world.admin.id }]), eve.token);
    expect(errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    // A connection opened with the token now is refused before any operation.
    const { client, closed } = online(env.server, eve.token);
    const feed = subscribe<Added>(client, MESSAGE_ADDED);
    expect((await closedWithin(closed, 3000)).code).toBe(UNAUTHENTICATED_CLOSE);
    expect(feed.received).toEqual([]);
  });

  test('is never offered in recipients, neither alone nor as a member of its auto-CC team', async () => {
    const caller = await account(env.world, 'Offer Caller');
    const loner = await account(env.world, 'Offer Loner');
    const member = await account(env.world, 'Offer Member');
    const stays = await account(env.world, 'Offer Stays');
    const only = await account(env.world, 'Offer Only');
    await env.world.team('Offer Team', { autoCc: true, members: [member, stays] });
    await env.world.team('Offer Solo Team', { autoCc: true, members: [only] });
    const before = await offered(env.world, caller, { search: 'offer' });
    expect(before).toEqual({
      teams: [
        { name: 'Offer Solo Team', members: ['Offer Only'] },
        { name: 'Offer Team', members: ['Offer Member', 'Offer Stays'] },
      ],
      users: ['Offer Loner'],
    });

    for (const person of [loner, member, only]) await disable(env.world, person);

    // A team whose only contactable member is disabled is not offered at all.
    expect(await offered(env.world, caller, { search: 'offer' })).toEqual({
      teams: [{ name: 'Offer Team', members: ['Offer Stays'] }],
      users: [],
    });
  });

  test('cannot be picked: BAD_USER_INPUT saying the account is disabled, and its team adds only the others', async () => {
    const caller = await account(env.world, 'Pick Caller');
    const target = await account(env.world, 'Pick Target');
    const member = await account(env.world, 'Pick Member');
    const stays = await account(env.world, 'Pick Stays');
    const only = await account(env.world, 'Pick Only');
    const peer = await account(env.world, 'Pick Peer');
    const team = await env.world.team('Pick Team', { autoCc: true, members: [member, stays] });
    const soloTeam = await env.world.team('Pick Solo Team', { autoCc: true, members: [only] });
    const existing = await env.world.thread(caller, [asRecipient(peer)]);
    for (const person of [target, member, only]) await disable(env.world, person);

    const created = await failure(env.server.url, CreateThreadDocument, revocationThread([asRecipient(target)]), caller.token);
    expect(created.extensions?.code).toBe('BAD_USER_INPUT');
    expect(created.message).toBe("Pick Target's account is disabled");
    const added = await failure(env.server.url, ADD_PARTICIPANTS, { t: existing, r: [asRecipient(target)] }, caller.token);
    expect(added).toMatchObject({ message: "Pick Target's account is disabled", extensions: { code: 'BAD_USER_INPUT' } });
    // Nothing was half-made: the caller has only the thread made before.
    const { threads } = await env.world.as(caller, '{ threads(first: 100) { edges { node { id } } } }');
    expect(threads.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([existing]);

    // Picking the team adds its members who are not disabled.
    const { createThread } = await env.world.as(caller, CreateThreadDocument, revocationThread([asRecipient(team)]));
    expect(createThread.participants.map((p: { user: { id: string } }) => p.user.id).sort()).toEqual([caller.id, stays.id].sort());
    // A team with nobody left to add is refused, as one with nobody contactable.
    const solo = await failure(env.server.url, CreateThreadDocument, revocationThread([asRecipient(soloTeam)]), caller.token);
    expect(solo).toMatchObject({ message: 'Team "Pick Solo Team" has no contactable member', extensions: { code: 'BAD_USER_INPUT' } });
  });

  test('has its open sockets closed with 4401 at once, and receives nothing more', async () => {
    const doctor = await account(env.world, 'Socket Doctor');
    const nurse = await account(env.world, 'Socket Nurse');
    const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'before');
    const nurseTabs = [listen(env.server, nurse.token), listen(env.server, nurse.token)];
    const doctorFeed = listen(env.server, doctor.token);
    await untilSubscribed(env.server, 3);
    expect(env.server.app.liveSessions.size).toBe(3);
    await send(env.world, doctor, threadId, 'while enabled');
    for (const tab of nurseTabs) await tab.waitFor(1);

    const disabledAt = Date.now();
    await disable(env.world, nurse);
    for (const tab of nurseTabs) {
      const closed = await closedWithin(tab.closed, 1000);
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Account disabled' });
      expect(closed.at - disabledAt).toBeLessThan(1000);
    }
    // Nothing was waiting for a message: the sockets were closed because of the disable itself.
    await send(env.world, doctor, threadId, 'after the disable');

    await doctorFeed.waitFor(2);
    expect(bodies(doctorFeed)).toEqual(['while enabled', 'after the disable']);
    for (const tab of nurseTabs) expect(bodies(tab)).toEqual(['while enabled']);
    // The doctor's socket is untouched; the nurse's are forgotten.
    expect(env.server.app.liveSessions.size).toBe(1);
  });

  test('can log in again once re-enabled, and is offered again', async () => {
    const fred = await account(env.world, 'Returning Fred');
    const caller = await account(env.world, 'Returning Caller');
    await disable(env.world, fred);
    expect((await login(env.world, fred)).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await offered(env.world, caller, { search: 'returning fred' })).users).toEqual([]);

    const { data } = await setDisabled(env.world, fred, false);
    expect(data.setUserDisabled.disabled).toBe(false);

    const { login: again } = await ok(env.server.url, LOGIN, { email: fred.email, password: fred.password });
    expect(again.user).toEqual({ id: fred.id, disabled: false });
    expect((await ok(env.server.url, ME, {}, again.token)).me).toEqual({ id: fred.id, disabled: false });
    // Disabling ended the sessions: enabling revives none, so the token from before stays refused.
    expect(await failure(env.server.url, ME, {}, fred.token)).toMatchObject({ message: 'This session has ended: sign in again', extensions: { code: 'UNAUTHENTICATED' } });
    expect((await offered(env.world, caller, { search: 'returning fred' })).users).toEqual(['Returning Fred']);
  });

  test('disabling and enabling are audited as USER_DISABLED and USER_ENABLED by the admin; repeating a value writes nothing', async () => {
    const gus = await account(env.world, 'Audited Gus');
    await disable(env.world, gus);
    await disable(env.world, gus);
    await setDisabled(env.world, gus, false);
    await setDisabled(env.world, gus, false);

    const events = (await auditOf(gus)).map((e) => ({ action: e.action, actor: e.actorId }));
    expect(events).toEqual([
      { action: 'USER_CREATED', actor: env.world.admin.id },
      { action: 'USER_DISABLED', actor: env.world.admin.id },
      { action: 'USER_ENABLED', actor: env.world.admin.id },
    ]);
  });

  test('non-admins get FORBIDDEN, for others and for themselves, and nothing changes', async () => {
    const pro = await account(env.world, 'Forbidden Pro');
    const pat = await account(env.world, 'Forbidden Pat', { kind: 'PATIENT' });
    const target = await account(env.world, 'Forbidden Target');
    for (const actor of [pro, pat]) {
      for (const [who, disabled] of [[target, true], [actor, true], [actor, false]] as const) {
        const { errors } = await setDisabled(env.world, who, disabled, actor);
        expect(errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
    }
    for (const person of [pro, pat, target]) {
      expect((await login(env.world, person)).errors).toBeUndefined();
      expect((await auditOf(person)).map((e) => e.action)).toEqual(['USER_CREATED']);
    }
  });

  test('an admin cannot disable themself (BAD_USER_INPUT); an unknown user is NOT_FOUND', async () => {
    const self = await setDisabled(env.world, env.world.admin, true);
    expect(self.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect((await env.world.as(env.world.admin, ME)).me.disabled).toBe(false);

    const unknown = await gql(env.server.url, SET_DISABLED, { u: '00000000-0000-4000-8000-000000000000', d: true }, env.world.admin.token);
    expect(unknown.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);

    // Another admin can be disabled, like anyone else.
    const other = await account(env.world, 'Other Admin', { isAdmin: true, contactable: false });
    await disable(env.world, other);
    expect((await login(env.world, other)).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('a token that expires', () => {
  /** A token like the server's for the session of `who`'s token, that expires `seconds` from now (to the second, as JWTs count). */
  async function shortLived(who: Account, seconds: number): Promise<{ token: string; expiresAt: number }> {
    const exp = Math.ceil(Date.now() / 1000) + seconds;
    const token = await new SignJWT({ sid: decodeJwt(who.token).sid })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(who.id)
      .setIssuer('carethread')
      .setAudience('carethread-api')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(SECRET);
    return { token, expiresAt: exp * 1000 };
  }

  test('closes its socket with 4401 when it expires, not before', async () => {
    const gail = await account(env.world, 'Expiring Gail');
    const { token, expiresAt } = await shortLived(gail, 2);
    const feed = listen(env.server, token);
    await untilSubscribed(env.server, 1);
    expect(env.server.app.liveSessions.size).toBe(1);

    const closed = await closedWithin(feed.closed, expiresAt - Date.now() + 1500);
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Token expired' });
    // Open until the expiry, then closed right away.
    expect(closed.at).toBeGreaterThanOrEqual(expiresAt - 50);
    expect(closed.at - expiresAt).toBeLessThan(1000);
    await until(() => env.server.app.liveSessions.size === 0);
  });

  test('a socket that closes first is forgotten with its expiry timer', async () => {
    const hal = await account(env.world, 'Leaving Hal');
    const feeds = [listen(env.server, hal.token), listen(env.server, hal.token)];
    await untilSubscribed(env.server, 2);
    expect(env.server.app.liveSessions.size).toBe(2);

    await feeds[0].client.dispose();
    await until(() => env.server.app.liveSessions.size === 1);
    await feeds[1].client.dispose();
    await until(() => env.server.app.liveSessions.size === 0);
  });
});

describe('across instances', () => {
  const instances = useTwoInstances('revocation', { clients });

  test('an account disabled through one instance has its sockets on every instance closed with 4401 at once', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a, b } = instances;
    const worldA = await World.create(a);
    const doctor = await account(worldA, 'Remote Doctor');
    const nurse = await account(worldA, 'Remote Nurse');
    const threadId = await worldA.thread(doctor, [asRecipient(nurse)], 'first');
    const doctorOnB = listen(b, doctor.token);
    const nurseOnA = listen(a, nurse.token);
    const nurseOnB = listen(b, nurse.token);
    await untilSubscribed(a, 1);
    await untilSubscribed(b, 2);
    await untilLinked((n) => send(worldA, doctor, threadId, `probe ${n}`), () => nurseOnB.received.length > 0);
    await nurseOnB.waitFor(1);

    await disable(worldA, nurse);
    for (const feed of [nurseOnA, nurseOnB]) expect((await closedWithin(feed.closed, 2000)).code).toBe(UNAUTHENTICATED_CLOSE);
    const before = bodies(nurseOnB).length;
    await send(worldA, doctor, threadId, 'after the disable');
    await until(() => bodies(doctorOnB).includes('after the disable'), 5000);
    expect(bodies(nurseOnB)).toHaveLength(before);
    expect(b.app.liveSessions.size).toBe(1);
  });

  test('a socket without any subscription, on another instance, is closed with 4401 too: the socket watches its user', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a, b } = instances;
    const worldA = await World.create(a);
    const clerk = await account(worldA, 'Idle Clerk');
    const idle = openClient(b.wsUrl, clerk.token);
    clients.push(idle.client);
    await until(() => b.app.liveSessions.count(clerk.id) === 1 && b.app.events.connected());
    // The socket's SSUBSCRIBE went out before the PING on the same connection.
    await b.app.events.ping();

    await disable(worldA, clerk);
    await until(() => idle.closes.some((close) => close.code === UNAUTHENTICATED_CLOSE), 2000);
    expect(b.app.liveSessions.count(clerk.id)).toBe(0);
  });
});

describe('after the link between instances was down', () => {
  // Two instances on one database: A sends its events to Redis (and so keeps them in the outbox), B has no
  // link at all, so a disable through A never reaches B, as while B's Redis link is down. What B does once
  // the link is back is what these tests call directly.
  const database = sharedDatabase('missed');
  let a: TestServer | undefined;
  let b: TestServer;

  beforeAll(async () => {
    if (!(await redisAnswers())) return;
    a = await startTestServer({ ...database.env, REDIS_URL: TEST_REDIS_URL, INSTANCE_ID: `missed-a-${database.schema}` });
    b = await startTestServer({ ...database.env, INSTANCE_ID: `missed-b-${database.schema}` });
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await a?.close();
    await b?.close();
    await database.drop();
  });

  test('an instance that missed a disable closes the account\'s sockets (4401) once the link is back, enabled again or not', async () => {
    if (!a) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const worldA = await World.create(a);
    const ida = await account(worldA, 'Missed Ida');
    const jon = await account(worldA, 'Missed Jon');
    const lostAt = new Date();
    const idaOnB = listen(b, ida.token);
    const jonOnB = listen(b, jon.token);
    await untilSubscribed(b, 2);
    // Jon is disabled and enabled again while the link is down, then signs in again.
    await disable(worldA, ida);
    await disable(worldA, jon);
    await setDisabled(worldA, jon, false);
    const jonAgain = listen(b, (await ok(a.url, LOGIN, { email: jon.email, password: jon.password })).login.token);
    await untilSubscribed(b, 3);
    expect(b.app.liveSessions.size).toBe(3);

    // B delivers what was written meanwhile: each disable and the sessions it ended. Jon's sessions from
    // before stay ended although he is enabled again; the one he began after keeps its socket.
    expect(await b.app.outbox.catchUp(lostAt)).toBe(4);
    for (const feed of [idaOnB, jonOnB]) expect((await closedWithin(feed.closed, 1000)).code).toBe(UNAUTHENTICATED_CLOSE);
    await until(() => b.app.liveSessions.size === 1);
    await ok(b.url, CreateThreadDocument, revocationThread([asRecipient(jon)]), worldA.admin.token);
    await jonAgain.waitFor(1);
    expect(idaOnB.received).toEqual([]);
    expect(jonOnB.received).toEqual([]);
  });
});

describe('the disabled flag on an existing database', () => {
  const database = sharedDatabase('upgrade');

  afterAll(() => database.drop());

  test('is added at start with every account enabled, and nothing that refers to users is lost', async () => {
    // As the first release left it: only the initial migration, with users that rows refer to.
    await earlierRelease(database, [Initial1764000000000], async (db, table, at) => {
      await db.query(`INSERT INTO ${table('threads')} ("id", "subject", "createdAt", "createdById", "lastActivityAt", "lastSeq")
        VALUES ('th-old', 'Old', ${at}, 'u-pat', ${at}, 0)`);
      await db.query(`INSERT INTO ${table('participants')} ("threadId", "userId", "joinedAt", "lastReadSeq") VALUES ('th-old', 'u-pat', ${at}, 0), ('th-old', 'u-pro', ${at}, 0)`);
    });
    const upgraded = await startTestServer(database.env);
    try {
      const db = upgraded.app.db;
      const users = await db.getRepository(User).find({ where: { id: In(['u-pro', 'u-pat']) }, select: { id: true, disabled: true }, order: { id: 'ASC' } });
      expect(users.map((u) => ({ ...u }))).toEqual([
        { id: 'u-pat', disabled: false },
        { id: 'u-pro', disabled: false },
      ]);
      const members = await db.getRepository(TeamMember).find({ select: { teamId: true, userId: true } });
      expect(members.map((m) => ({ ...m }))).toEqual([{ teamId: 't-old', userId: 'u-pro' }]);
      const participants = await db.getRepository(Participant).find({ select: { userId: true }, order: { userId: 'ASC' } });
      expect(participants.map((p) => p.userId)).toEqual(['u-pat', 'u-pro']);
      if (!TEST_POSTGRES_URL) expect(await db.query('PRAGMA foreign_key_check')).toEqual([]);
      // The old accounts are recipients as before.
      const world = await World.create(upgraded);
      const caller = await account(world, 'Upgrade Caller');
      expect(await offered(world, caller, { search: 'old' })).toEqual({ teams: [{ name: 'Old Team', members: ['Old Pro'] }], users: [] });
    } finally {
      await upgraded.close();
    }
  });
});
