import { randomBytes } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { exportSPKI, SignJWT } from 'jose';
import { createLogger } from '../src/logger';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { User } from '../src/modules/users/user.entity';
import { wsClient, wsRun } from './support/audit-requests';
import { gql, ok } from './support/graphql';
import { TestIdentityProvider, type SigningKey } from './support/identity-provider';
import { closedWithin, closingClient, retryingClient, subscribe, until, untilSubscribed } from './support/live';
import { startTestServer, type TestServer } from './support/server';
import { World, type Person } from './support/world';

// Signing in through the hospital's identity provider (issue 6): bearer tokens
// of an OpenID Connect issuer, verified against the JWKS it publishes (served
// here by the test itself), mapped to a staff account by a stored link or a
// verified email, over real HTTP and graphql-ws.

const AUDIENCE = 'carethread-web';
const ME = '{ me { id name } }';
const INVALID = 'Invalid or expired token';
const NO_ACCOUNT = 'No CareThread account for this identity; ask an administrator';
const UNAUTHENTICATED_CLOSE = 4401;

let idp: TestIdentityProvider;
let server: TestServer;
let world: World;
let rsa: SigningKey;
/** Lines the server logged at warn and above. */
const logged: { msg: string; [key: string]: unknown }[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  idp = await TestIdentityProvider.start();
  rsa = await idp.key('RS256');
  server = await startTestServer(
    // PS256 and EdDSA are left out so that a token using them with a published key shows the list is enforced.
    { OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: AUDIENCE, OIDC_ALGORITHMS: 'RS256,ES256', OIDC_JWKS_COOLDOWN_SECONDS: '0' },
    { logger: createLogger('warn', { write: (line: string) => void logged.push(JSON.parse(line)) }) },
  );
  world = await World.create(server);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

afterAll(async () => {
  await server.close();
  await idp.close();
});

let subjects = 0;
const newSubject = () => `idp-user-${++subjects}-${randomBytes(3).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token of the provider for `person`'s email, verified, for a new subject unless given. */
const tokenFor = (person: Person, claims: Record<string, unknown> = {}, options?: Parameters<TestIdentityProvider['token']>[1]) =>
  idp.token({ sub: newSubject(), aud: AUDIENCE, email: person.email, email_verified: true, ...claims }, options);

const refusal = async (token: string) => {
  const { data, errors } = await gql(server.url, ME, {}, token);
  return { data: data ?? null, errors: errors?.map((e) => ({ code: e.extensions?.code, message: e.message })) };
};
const refused = (message: string) => ({ data: null, errors: [{ code: 'UNAUTHENTICATED', message }] });

const links = (userId: string) => server.app.db.getRepository(AuditEvent).find({ where: { action: AuditAction.ExternalIdentityLinked, subjectUserId: userId } });
const stored = (userId: string) => server.app.db.getRepository(User).findOneByOrFail({ id: userId });

describe('a staff member signed in by the identity provider', () => {
  test('is the CareThread user with their verified email: `me` is them, and what they do is audited as them', async () => {
    const doctor = await world.professional('Idp Doctor');
    const nurse = await world.professional('Idp Nurse');
    const token = await tokenFor(doctor);
    expect((await ok(server.url, ME, {}, token)).me).toEqual({ id: doctor.id, name: 'Idp Doctor' });

    const { createThread } = await ok(
      server.url,
      'mutation($r: [RecipientInput!]!) { createThread(subject: "Via the IdP", body: "Hello", recipients: $r) { id } }',
      { r: [{ userId: nurse.id }] },
      token,
    );
    const created = await server.app.db.getRepository(AuditEvent).findOneByOrFail({ action: AuditAction.ThreadCreated, threadId: createThread.id });
    expect(created.actorId).toBe(doctor.id);
  });

  test('is linked by email once, audited once with them as actor; the link then holds when the provider changes their email', async () => {
    const pro = await world.professional('Idp Linked');
    const subject = newSubject();
    // The address as the provider spells it: matched the way local logins match emails.
    const first = await tokenFor(pro, { sub: subject, email: pro.email.toUpperCase() });
    expect((await ok(server.url, ME, {}, first)).me.id).toBe(pro.id);
    expect((await ok(server.url, ME, {}, first)).me.id).toBe(pro.id);
    expect(await stored(pro.id)).toMatchObject({ externalIssuer: idp.issuer, externalSubject: subject });
    expect((await links(pro.id)).map((e) => ({ actor: e.actorId, subject: e.subjectUserId, outcome: e.outcome }))).toEqual([
      { actor: pro.id, subject: pro.id, outcome: 'SUCCESS' },
    ]);

    for (const claims of [{ email: 'renamed@elsewhere.example' }, { email: undefined, email_verified: undefined }, { email_verified: false }]) {
      const later = await idp.token({ sub: subject, aud: AUDIENCE, email: pro.email, email_verified: true, ...claims });
      expect((await ok(server.url, ME, {}, later)).me.id).toBe(pro.id);
    }
    expect(await links(pro.id)).toHaveLength(1);
  });

  test('a link made under a former provider (the hospital changed issuer) is replaced by this one, audited', async () => {
    const pro = await world.professional('Idp Former Provider');
    // No API links an account; this is what a sign-in through the former issuer left behind.
    await server.app.db.getRepository(User).update({ id: pro.id }, { externalIssuer: 'https://old-idp.example', externalSubject: 'old-subject' });
    const subject = newSubject();
    expect((await ok(server.url, ME, {}, await tokenFor(pro, { sub: subject }))).me.id).toBe(pro.id);
    expect(await stored(pro.id)).toMatchObject({ externalIssuer: idp.issuer, externalSubject: subject });
    expect(await links(pro.id)).toHaveLength(1);
  });

  test('first requests at once for the same identity all succeed, and link it once', async () => {
    const pro = await world.professional('Idp Concurrent');
    const token = await tokenFor(pro);
    const results = await Promise.all(Array.from({ length: 8 }, () => gql(server.url, ME, {}, token)));
    expect(results.map((r) => r.errors ?? r.data.me.id)).toEqual(results.map(() => pro.id));
    expect(await links(pro.id)).toHaveLength(1);
  });

  test('an admin signs in the same way', async () => {
    const admin = await world.professional('Idp Admin', { isAdmin: true, contactable: false });
    const token = await tokenFor(admin);
    expect((await ok(server.url, '{ me { id isAdmin } }', {}, token)).me).toEqual({ id: admin.id, isAdmin: true });
  });

  test('keeps working with local login beside it: a password login and its token', async () => {
    const pro = await world.professional('Idp Local');
    expect((await ok(server.url, ME, {}, pro.token)).me.id).toBe(pro.id);
    const { login } = await ok(server.url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: pro.email, p: 'password-1234' });
    expect((await ok(server.url, ME, {}, login.token)).me.id).toBe(pro.id);
  });
});

describe('an identity that maps to no account it may use', () => {
  test('an unverified or missing email links nothing', async () => {
    const pro = await world.professional('Idp Unverified');
    for (const claims of [{ email_verified: false }, { email_verified: 'true' }, { email_verified: undefined }, { email: undefined }]) {
      expect(await refusal(await tokenFor(pro, claims))).toEqual(refused(NO_ACCOUNT));
    }
    expect(await stored(pro.id)).toMatchObject({ externalIssuer: null, externalSubject: null });
    expect(await links(pro.id)).toEqual([]);
  });

  test('a patient account is never matched, even by a verified email', async () => {
    const patient = await world.patient('Idp Patient');
    expect(await refusal(await tokenFor(patient))).toEqual(refused(NO_ACCOUNT));
    expect(await stored(patient.id)).toMatchObject({ externalSubject: null });
    expect(await links(patient.id)).toEqual([]);
  });

  test('a disabled account is refused, whether it was linked before or not', async () => {
    const linked = await world.professional('Idp Disabled Linked');
    const unlinked = await world.professional('Idp Disabled Unlinked');
    const linkedToken = await tokenFor(linked);
    await ok(server.url, ME, {}, linkedToken);
    for (const person of [linked, unlinked]) {
      await world.as(world.admin, 'mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }', { u: person.id });
    }
    expect(await refusal(linkedToken)).toEqual(refused('This account is disabled'));
    expect(await refusal(await tokenFor(unlinked))).toEqual(refused('This account is disabled'));
    expect(await stored(unlinked.id)).toMatchObject({ externalSubject: null });
  });

  test('an identity without an account is refused with a message that says what to do; nobody is created', async () => {
    const count = await server.app.db.getRepository(User).count();
    const token = await idp.token({ sub: newSubject(), aud: AUDIENCE, email: 'new.starter@hospital.example', email_verified: true });
    expect(await refusal(token)).toEqual(refused(NO_ACCOUNT));
    expect(await server.app.db.getRepository(User).count()).toBe(count);
  });

  test('a second identity with the email of an account already linked is refused, and logged as a warning', async () => {
    const pro = await world.professional('Idp Taken');
    const subject = newSubject();
    await ok(server.url, ME, {}, await tokenFor(pro, { sub: subject }));
    const intruder = newSubject();
    expect(await refusal(await tokenFor(pro, { sub: intruder }))).toEqual(refused(NO_ACCOUNT));
    expect(await stored(pro.id)).toMatchObject({ externalSubject: subject });
    expect(await links(pro.id)).toHaveLength(1);
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, userId: pro.id, linkedSubject: subject, refusedSubject: intruder }));
  });
});

describe('a token that is not good', () => {
  test('wrong audience or issuer, expired, not yet valid, without exp or sub, an unknown or unpublished key, alg none, algorithm confusion, an algorithm not allowed: UNAUTHENTICATED, the same words', async () => {
    const pro = await world.professional('Idp Bad Tokens');
    const good = { sub: newSubject(), aud: AUDIENCE, email: pro.email, email_verified: true };
    const t = now();
    const stranger = await idp.key('RS256', { publish: false });
    const ed25519 = await idp.key('EdDSA');
    // HS256 keyed with the published public key: a verifier that let the token pick the algorithm would accept it.
    const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const confused = await new SignJWT({ ...good, iss: idp.issuer, iat: t, exp: t + 600 }).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(publicPem);

    const bad: Record<string, string> = {
      'another audience': await idp.token({ ...good, aud: 'another-client' }),
      'no audience': await idp.token({ ...good, aud: undefined }),
      'another issuer, signed with the same key': await idp.token({ ...good, iss: 'https://idp.elsewhere.example' }),
      'the issuer with a trailing slash': await idp.token({ ...good, iss: `${idp.issuer}/` }),
      "CareThread's own issuer, signed with the provider's key": await idp.token({ ...good, iss: 'carethread', aud: 'carethread-api' }),
      'no issuer': await idp.token({ ...good, iss: undefined }),
      'expired beyond the clock tolerance': await idp.token({ ...good, iat: t - 3600, exp: t - 120 }),
      'not valid for two more minutes': await idp.token({ ...good, nbf: t + 120 }),
      'no expiry': await idp.token({ ...good, exp: undefined }),
      'no subject': await idp.token({ ...good, sub: undefined }),
      'a kid the provider never published': await idp.token(good, { key: stranger }),
      "an unpublished key under a published key's kid": await idp.token(good, { key: stranger, kid: rsa.kid }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...good, iss: idp.issuer, iat: t, exp: t + 600 })}.`,
      'HS256 keyed with the public key': confused,
      'PS256, not in OIDC_ALGORITHMS, with the published RSA key': await idp.token(good, { alg: 'PS256' }),
      'EdDSA, not in OIDC_ALGORITHMS, with a published key': await idp.token(good, { key: ed25519 }),
    };
    // The same claims, well signed, work: each refusal below is about its one change.
    expect((await ok(server.url, ME, {}, await idp.token(good))).me.id).toBe(pro.id);

    for (const [label, token] of Object.entries(bad)) {
      expect({ label, ...(await refusal(token)) }).toEqual({ label, ...refused(INVALID) });
    }
  });

  test('a token of another issuer is refused without asking the provider', async () => {
    const before = { ...idp.requests };
    const other = await idp.token({ sub: newSubject(), aud: AUDIENCE, iss: 'https://unknown.example' });
    expect(await refusal(other)).toEqual(refused(INVALID));
    expect(idp.requests).toEqual(before);
  });
});

test('key rotation: a token signed with a key the provider published since is accepted', async () => {
  const pro = await world.professional('Idp Rotation');
  const subject = newSubject();
  await ok(server.url, ME, {}, await tokenFor(pro, { sub: subject }));
  const next = await idp.key('ES256');
  idp.published = [next];
  const token = await idp.token({ sub: subject, aud: AUDIENCE }, { key: next });
  expect((await ok(server.url, ME, {}, token)).me.id).toBe(pro.id);
  idp.published.unshift(rsa);
});

describe('over graphql-ws', () => {
  function online(token: string) {
    const connection = closingClient(server.wsUrl, token);
    clients.push(connection.client);
    return connection;
  }

  test('a subscription with a provider token receives, and its socket is closed with 4401 when the token expires', async () => {
    const pro = await world.professional('Idp Live');
    const colleague = await world.professional('Idp Live Colleague');
    const exp = now() + 3;
    const { client, closed } = online(await tokenFor(pro, { exp }));
    const feed = subscribe<{ messageAdded: { body: string } }>(client, 'subscription { messageAdded { body } }');
    await untilSubscribed(server, 1);
    await world.thread(colleague, [{ userId: pro.id }], 'live through the IdP');
    expect((await feed.waitFor(1)).map((r) => r.messageAdded.body)).toEqual(['live through the IdP']);

    const close = await closed;
    expect({ code: close.code, reason: close.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Token expired' });
    expect(close.at).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(close.at - exp * 1000).toBeLessThan(1000);
    await until(() => server.app.liveSessions.size === 0);
  }, 10_000);

  test('a first sign-in over a websocket links the account, audited with where the socket came from', async () => {
    const pro = await world.professional('Idp Ws First');
    const client = wsClient(server.wsUrl, await tokenFor(pro), { 'x-request-id': 'ws-first-link', 'user-agent': 'WardTablet/2' });
    clients.push(client);
    expect((await wsRun(client, ME)).data?.me.id).toBe(pro.id);
    expect((await links(pro.id)).map((e) => ({ actor: e.actorId, requestId: e.requestId, ip: e.clientIp, userAgent: e.userAgent }))).toEqual([
      { actor: pro.id, requestId: 'ws-first-link', ip: '127.0.0.1', userAgent: 'WardTablet/2' },
    ]);
  });

  test('a connection with a bad provider token, or for a patient, is refused with 4401', async () => {
    const pro = await world.professional('Idp Live Refused');
    const patient = await world.patient('Idp Live Patient');
    for (const token of [await tokenFor(pro, { aud: 'another-client' }), await tokenFor(patient)]) {
      const { client, closed } = online(token);
      const feed = subscribe(client, 'subscription { messageAdded { body } }');
      const stillOpen = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('the socket was not closed')), 3000).unref());
      expect((await Promise.race([closed, stillOpen])).code).toBe(UNAUTHENTICATED_CLOSE);
      expect(feed.received).toEqual([]);
    }
  });
});

describe("sessions: the provider's tokens are the provider's", () => {
  const SIGN_OUT = 'mutation { signOut }';

  test('signOut with a provider token is refused with BAD_USER_INPUT, ends nothing and is not audited', async () => {
    const pro = await world.professional('Idp Sign Out');
    const token = await tokenFor(pro);
    const { errors } = await gql(server.url, SIGN_OUT, {}, token);
    expect(errors?.map((e) => ({ code: e.extensions?.code, message: e.message }))).toEqual([
      { code: 'BAD_USER_INPUT', message: "This token is the identity provider's: sign out there" },
    ]);
    expect((await ok(server.url, ME, {}, token)).me.id).toBe(pro.id);
    expect((await ok(server.url, ME, {}, pro.token)).me.id).toBe(pro.id);
    const signedOut = await server.app.db.getRepository(AuditEvent).countBy({ action: AuditAction.SignedOut, actorId: pro.id });
    expect(signedOut).toBe(0);
  });

  test("signOutEverywhere with a provider token ends the account's password sessions; the provider's token stays valid", async () => {
    const pro = await world.professional('Idp Everywhere');
    const token = await tokenFor(pro);
    expect(await ok(server.url, 'mutation { signOutEverywhere }', {}, token)).toEqual({ signOutEverywhere: 1 });
    expect(await refusal(pro.token)).toEqual(refused('This session has ended: sign in again'));
    expect((await ok(server.url, ME, {}, token)).me.id).toBe(pro.id);
  });

  test("disabling closes a provider token's socket with 4401; enabling again lets the provider's unexpired token in again", async () => {
    const pro = await world.professional('Idp Disabled Live');
    const token = await tokenFor(pro);
    const { client, closed } = closingClient(server.wsUrl, token);
    clients.push(client);
    subscribe(client, 'subscription { messageAdded { body } }');
    await untilSubscribed(server, 1);
    const setDisabled = (disabled: boolean) =>
      world.as(world.admin, 'mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id } }', { u: pro.id, d: disabled });
    await setDisabled(true);
    const close = await closedWithin(closed, 1000);
    expect({ code: close.code, reason: close.reason }).toEqual({ code: UNAUTHENTICATED_CLOSE, reason: 'Account disabled' });
    expect(await refusal(token)).toEqual(refused('This account is disabled'));
    await setDisabled(false);
    expect((await ok(server.url, ME, {}, token)).me.id).toBe(pro.id);
    // Its password session did not come back.
    expect(await refusal(pro.token)).toEqual(refused('This session has ended: sign in again'));
  });
});

describe('while the identity provider is down', () => {
  test('the server starts; its tokens fail as a server error, not as bad tokens, and work once it is back', async () => {
    const provider = await TestIdentityProvider.start();
    await provider.key('RS256');
    provider.down = true;
    const errorLines: string[] = [];
    const target = await startTestServer(
      { OIDC_ISSUER: provider.issuer, OIDC_AUDIENCE: AUDIENCE },
      { logger: createLogger('error', { write: (line: string) => void errorLines.push(line) }) },
    );
    try {
      expect(provider.requests).toEqual({ discovery: 0, jwks: 0 });
      const staff = await World.create(target);
      const pro = await staff.professional('Idp Outage');
      const token = await provider.token({ sub: newSubject(), aud: AUDIENCE, email: pro.email, email_verified: true });
      const { errors } = await gql(target.url, ME, {}, token);
      expect(errors?.map((e: GraphQLFormattedError) => [e.extensions?.code, e.message])).toEqual([['INTERNAL_SERVER_ERROR', 'Internal server error']]);
      expect(provider.requests.discovery).toBe(1);
      expect(errorLines.join('')).toContain(`could not read ${provider.issuer}/.well-known/openid-configuration`);
      // The password still works meanwhile.
      expect((await ok(target.url, ME, {}, pro.token)).me.id).toBe(pro.id);
      // A socket is closed with 1013 (try again later), which graphql-ws's client retries by itself, unlike
      // 4401 (sign in again) or 4500: its subscription goes live once the provider is back.
      const { client, closes } = retryingClient(target.wsUrl, token);
      clients.push(client);
      const feed = subscribe(client, 'subscription { messageAdded { body } }');
      await until(() => closes.length > 0);
      provider.down = false;
      await untilSubscribed(target, 1);
      expect({ closes: [...new Set(closes)], errors: feed.errors }).toEqual({ closes: [1013], errors: [] });
      expect(errorLines.join('')).toContain('websocket refused for now: the identity provider is unavailable');
      expect((await ok(target.url, ME, {}, token)).me.id).toBe(pro.id);
    } finally {
      // Before the server goes: its shutdown (1001) would have the client retry against a closed port.
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      await target.close();
      await provider.close();
    }
  });
});
