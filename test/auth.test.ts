import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isObjectType, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import WebSocket from 'ws';
import { getSchema } from '../src/schema';
import { User } from '../src/modules/users/user.entity';
import { failure, gql, ok } from './support/graphql';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';

// Sign-in, tokens and password storage, over real HTTP and graphql-ws.

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret-0123');
const ISSUER = 'carethread';
const AUDIENCE = 'carethread-api';
const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { id name kind contactable isAdmin } }
}`;
const ME = '{ me { id } }';

let server: TestServer;
let world: World;
/** A professional whose email (as typed by the admin) and password this file knows. */
let dana: { id: string; email: string; password: string };

beforeAll(async () => {
  server = await startTestServer();
  world = await World.create(server);
  const input = { email: 'Dana.Scully@Test.Example', name: 'Dana Scully', kind: 'PROFESSIONAL', password: 'trust-no-one-1' };
  const { createUser } = await world.as(world.admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input });
  dana = { id: createUser.id, email: input.email, password: input.password };
});

afterAll(() => server.close());

const codeOf = (errors: readonly GraphQLFormattedError[] | undefined) => errors?.map((e) => e.extensions?.code);

/** A request with exactly this Authorization header (or none). */
async function withHeader(authorization: string | null, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: GraphQLFormattedError[] };
}

/** A token signed like the server's, with the given subject, session, lifetime and key. */
function sign(subject: string, { sid, iat, exp, secret = SECRET }: { sid: unknown; iat: number; exp: number; secret?: Uint8Array }) {
  return new SignJWT({ sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(secret);
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('login', () => {
  test('login returns a token and the user', async () => {
    const { login } = await ok(server.url, LOGIN, { email: dana.email, password: dana.password });
    expect(login.user).toEqual({ id: dana.id, name: 'Dana Scully', kind: 'PROFESSIONAL', contactable: true, isAdmin: false });
    expect(login.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const { payload } = await jwtVerify(login.token, SECRET, { issuer: ISSUER, audience: AUDIENCE });
    expect(payload.sub).toBe(dana.id);
    // The token is the user's identity on the next request.
    expect((await ok(server.url, ME, {}, login.token)).me.id).toBe(dana.id);
  });

  test('an unknown email and a wrong password both give UNAUTHENTICATED with the same message', async () => {
    const unknown = await failure(server.url, LOGIN, { email: 'nobody@test.example', password: dana.password });
    const wrong = await failure(server.url, LOGIN, { email: dana.email, password: 'trust-no-one-2' });
    expect(unknown.extensions?.code).toBe('UNAUTHENTICATED');
    expect(wrong.extensions?.code).toBe('UNAUTHENTICATED');
    // The same words, so the answer does not reveal which emails have accounts.
    expect(wrong.message).toBe(unknown.message);
    expect(wrong.message).not.toMatch(/password is wrong|unknown|no such|not found/i);
  });

  test('email is case-insensitive', async () => {
    for (const email of [dana.email, dana.email.toLowerCase(), dana.email.toUpperCase(), 'dANA.sCULLY@tEST.eXAMPLE']) {
      const { login } = await ok(server.url, LOGIN, { email, password: dana.password });
      expect(login.user.id).toBe(dana.id);
    }
    // The password is not: only the email is folded.
    expect(codeOf((await gql(server.url, LOGIN, { email: dana.email, password: dana.password.toUpperCase() })).errors)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('tokens', () => {
  let doctor: Person;
  let nurse: Person;
  let patient: Person;
  let teamId: string;
  let threadId: string;
  let organisationId: string;

  beforeAll(async () => {
    organisationId = (await world.as(world.admin, '{ me { organisation { id } } }')).me.organisation.id;
    doctor = await world.professional('Auth Doctor');
    nurse = await world.professional('Auth Nurse');
    patient = await world.patient('Auth Patient');
    const team = await world.team('Auth Team', { members: [nurse] });
    teamId = team.id;
    threadId = await world.thread(doctor, [asRecipient(nurse)], 'only message');
  });

  /** Every operation but login, aimed at real objects so that only the missing sign-in can refuse it. */
  const anonymous = (): Record<string, [string, Record<string, unknown>?]> => ({
    me: [ME],
    recipients: ['{ recipients { __typename } }'],
    threads: ['{ threads { edges { cursor } } }'],
    thread: ['query($id: ID!) { thread(id: $id) { id } }', { id: threadId }],
    teams: ['{ teams { id } }'],
    auditTrail: ['query($t: ID!) { auditTrail(threadId: $t) { id } }', { t: threadId }],
    auditEvents: ['{ auditEvents { edges { cursor } } }'],
    auditCheckpoint: ['{ auditCheckpoint { headHash } }'],
    attachmentLink: ['query($id: ID!) { attachmentLink(id: $id) { url } }', { id: threadId }],
    myAccessLog: ['{ myAccessLog { edges { cursor } } }'],
    createThread: [
      'mutation($r: [RecipientInput!]!) { createThread(subject: "s", body: "b", recipients: $r) { id } }',
      { r: [{ userId: nurse.id }] },
    ],
    sendMessage: ['mutation($t: ID!) { sendMessage(threadId: $t, body: "anonymous") { id } }', { t: threadId }],
    addParticipants: [
      'mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }',
      { t: threadId, r: [{ userId: doctor.id }] },
    ],
    leaveThread: ['mutation($t: ID!) { leaveThread(threadId: $t) }', { t: threadId }],
    markThreadRead: ['mutation($t: ID!) { markThreadRead(threadId: $t) { id } }', { t: threadId }],
    createUser: [
      'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }',
      { i: { email: 'anon@test.example', name: 'Anon', kind: 'PROFESSIONAL', password: 'password-anon', isAdmin: true } },
    ],
    createTeam: ['mutation { createTeam(name: "Anonymous team", autoCc: true) { id } }'],
    organisations: ['{ organisations { id } }'],
    createOrganisation: [
      'mutation { createOrganisation(name: "Anonymous organisation", firstAdmin: { email: "anonymous-admin@test.example", name: "A", password: "password-1234" }) { id } }',
    ],
    setOrganisationAutoCc: ['mutation($o: ID!) { setOrganisationAutoCc(organisationId: $o, allowed: false) { id } }', { o: organisationId }],
    renameOrganisation: ['mutation($o: ID!) { renameOrganisation(organisationId: $o, name: "Anonymously renamed") { id } }', { o: organisationId }],
    notificationSettings: ['{ notificationSettings { delayMinutes } }', {}],
    pushPublicKey: ['{ pushPublicKey }', {}],
    updateNotificationSettings: ['mutation { updateNotificationSettings(input: { channels: [] }) { channels } }', {}],
    registerPushSubscription: [
      'mutation($s: PushSubscriptionInput!) { registerPushSubscription(subscription: $s) { pushDevices } }',
      { s: { endpoint: 'https://push.example/anonymous', keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) } } },
    ],
    removePushSubscription: ['mutation { removePushSubscription(endpoint: "https://push.example/anonymous") { pushDevices } }', {}],
    addTeamMember: ['mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }', { t: teamId, u: doctor.id }],
    removeTeamMember: ['mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }', { t: teamId, u: nurse.id }],
    setTeamAutoCc: ['mutation($t: ID!) { setTeamAutoCc(teamId: $t, enabled: true) { id } }', { t: teamId }],
    setTeamCoverageMinimum: ['mutation($t: ID!) { setTeamCoverageMinimum(teamId: $t, minimum: 0) { id } }', { t: teamId }],
    setTeamWaitingLimit: ['mutation($t: ID!) { setTeamWaitingLimit(teamId: $t, minutes: 60) { id } }', { t: teamId }],
    recordAbsence: [
      'mutation($u: ID!, $s: DateTime!, $e: DateTime!) { recordAbsence(userId: $u, startsAt: $s, endsAt: $e) { id } }',
      { u: doctor.id, s: new Date().toISOString(), e: new Date(Date.now() + 3_600_000).toISOString() },
    ],
    cancelAbsence: ['mutation($id: ID!) { cancelAbsence(id: $id) }', { id: threadId }],
    teamInbox: ['query($t: ID!) { teamInbox(teamId: $t) { edges { cursor } } }', { t: teamId }],
    ...Object.fromEntries(
      ['claimThread', 'unassignThread', 'markThreadDone', 'reopenThread'].map((name) => [
        name,
        [`mutation($th: ID!, $t: ID!) { ${name}(threadId: $th, teamId: $t) { status } }`, { th: threadId, t: teamId }],
      ]),
    ),
    assignThread: ['mutation($th: ID!, $t: ID!, $u: ID!) { assignThread(threadId: $th, teamId: $t, userId: $u) { status } }', { th: threadId, t: teamId, u: nurse.id }],
    setContactable: ['mutation($u: ID!) { setContactable(userId: $u, contactable: false) { id } }', { u: doctor.id }],
    setUserDisabled: ['mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }', { u: doctor.id }],
    shareRecord: ['mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }', { p: patient.id, r: { teamId } }],
    signOut: ['mutation { signOut }'],
    signOutEverywhere: ['mutation { signOutEverywhere }'],
    changePassword: ['mutation { changePassword(currentPassword: "password-1234", newPassword: "another-password-1") }'],
  });

  const state = async () =>
    world.as(
      doctor,
      `query($t: ID!) {
        thread(id: $t) { participants { user { id } } messages { edges { node { body } } } unreadCount }
        teams { name autoCc minimumContactable waitingLimitMinutes members { id } }
        me { contactable }
      }`,
      { t: threadId },
    );

  test('a request with no token to any operation other than login gives UNAUTHENTICATED and changes nothing', async () => {
    const schema = await getSchema();
    const operations = ['Query', 'Mutation'].flatMap((name) => {
      const type = schema.getType(name);
      return isObjectType(type) ? Object.keys(type.getFields()) : [];
    });
    const cases = anonymous();
    // A new operation needs a case here; otherwise this test would silently skip it.
    expect(Object.keys(cases).sort()).toEqual(operations.filter((op) => op !== 'login').sort());

    const before = await state();
    for (const [operation, [query, variables]] of Object.entries(cases)) {
      const result = await gql(server.url, query, variables);
      // A nullable field (thread) comes back as null beside its error; nothing else comes back.
      const answered = Object.values(result.data ?? {}).filter((value) => value !== null);
      expect({ operation, codes: codeOf(result.errors), answered }).toEqual({ operation, codes: ['UNAUTHENTICATED'], answered: [] });
    }
    expect(await state()).toEqual(before);
    expect(await server.app.db.getRepository(User).existsBy({ email: 'anon@test.example' })).toBe(false);
  });

  test('a malformed, tampered, wrong-secret, unsigned, expired or ownerless token gives UNAUTHENTICATED', async () => {
    const good = (await ok(server.url, LOGIN, { email: dana.email, password: dana.password })).login.token as string;
    const [header, payload, signature] = good.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const claims = decodeJwt(good);
    const t = now();

    const bad: Record<string, string> = {
      'not a JWT': 'not-a-jwt',
      'three empty parts': '..',
      'garbage in three parts': 'abc.def.ghi',
      'header and payload only': `${header}.${payload}`,
      // The middle of the signature: its last character partly encodes padding bits.
      'a character of the signature changed': `${header}.${payload}.${flip(signature, 10)}`,
      'a character of the payload changed': `${header}.${flip(payload, 12)}.${signature}`,
      'the payload names someone else': `${header}.${b64({ ...claims, sub: world.admin.id })}.${signature}`,
      'the expiry pushed back': `${header}.${b64({ ...claims, exp: claims.exp! + 86400 })}.${signature}`,
      'signed with another secret': await sign(dana.id, { sid: claims.sid, iat: t, exp: t + 3600, secret: new TextEncoder().encode('another-secret-another-secret-another-0') }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      expired: await sign(dana.id, { sid: claims.sid, iat: t - 7200, exp: t - 60 }),
      'valid signature, no such user': await sign('00000000-0000-4000-8000-000000000000', { sid: claims.sid, iat: t, exp: t + 3600 }),
      'valid signature, no session': await sign(dana.id, { sid: undefined, iat: t, exp: t + 3600 }),
      'valid signature, a session that never was': await sign(dana.id, { sid: '00000000-0000-4000-8000-000000000000', iat: t, exp: t + 3600 }),
      "valid signature, someone else's session": await sign(world.admin.id, { sid: claims.sid, iat: t, exp: t + 3600 }),
    };
    // The untouched token works, so every refusal below is about the change.
    expect((await ok(server.url, ME, {}, good)).me.id).toBe(dana.id);

    for (const [label, token] of Object.entries(bad)) {
      for (const query of [ME, '{ threads { edges { cursor } } }']) {
        const result = await withHeader(`Bearer ${token}`, query);
        expect({ label, query, codes: codeOf(result.errors), data: result.data ?? null }).toEqual({
          label,
          query,
          codes: ['UNAUTHENTICATED'],
          data: null,
        });
      }
    }
  });

  test('Authorization: Basic ... gives UNAUTHENTICATED', async () => {
    const basic = `Basic ${Buffer.from(`${dana.email}:${dana.password}`).toString('base64')}`;
    const result = await withHeader(basic, ME);
    expect(codeOf(result.errors)).toEqual(['UNAUTHENTICATED']);
    expect(result.data ?? null).toBeNull();
    // Neither does a token without the Bearer scheme.
    const { login } = await ok(server.url, LOGIN, { email: dana.email, password: dana.password });
    expect(codeOf((await withHeader(login.token, ME)).errors)).toEqual(['UNAUTHENTICATED']);
    expect(codeOf((await withHeader(`Token ${login.token}`, ME)).errors)).toEqual(['UNAUTHENTICATED']);
  });

  test('the token expires TOKEN_TTL_SECONDS after it is issued (12 h by default)', async () => {
    const { login } = await ok(server.url, LOGIN, { email: dana.email, password: dana.password });
    const { iat, exp } = decodeJwt(login.token);
    expect(exp! - iat!).toBe(43200);
    expect(Math.abs(iat! - now())).toBeLessThanOrEqual(5);

    const short = await startTestServer({ TOKEN_TTL_SECONDS: '900' });
    try {
      const { login: shortLogin } = await ok(short.url, LOGIN, ADMIN);
      const claims = decodeJwt(shortLogin.token);
      expect(claims.exp! - claims.iat!).toBe(900);
    } finally {
      await short.close();
    }
  });
});

describe('graphql-ws', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  /** Opens a connection at once and reports whether the server acknowledged it or closed it, and with which code. */
  function open(connectionParams: Record<string, unknown>): Promise<{ client: Client; outcome: 'connected' | number }> {
    return new Promise((resolve) => {
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams,
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => undefined,
        on: {
          connected: () => resolve({ client, outcome: 'connected' }),
          closed: (event) => resolve({ client, outcome: (event as { code: number }).code }),
        },
      });
      clients.push(client);
    });
  }

  test('a connection with no token, a bad token or an expired token is refused with 4401', async () => {
    const t = now();
    const { sid } = decodeJwt((await ok(server.url, LOGIN, { email: dana.email, password: dana.password })).login.token);
    const expired = await sign(dana.id, { sid, iat: t - 7200, exp: t - 60 });
    const refused: Record<string, Record<string, unknown>> = {
      'no token': {},
      'an empty authorization': { authorization: '' },
      'a bad token': { authorization: 'Bearer not-a-jwt' },
      'a wrong-secret token': {
        authorization: `Bearer ${await sign(dana.id, { sid, iat: t, exp: t + 3600, secret: new TextEncoder().encode('another-secret-another-secret-another-0') })}`,
      },
      'an expired token': { authorization: `Bearer ${expired}` },
      'Basic credentials': { authorization: `Basic ${Buffer.from(`${dana.email}:${dana.password}`).toString('base64')}` },
    };
    for (const [label, params] of Object.entries(refused)) {
      const { outcome } = await open(params);
      expect({ label, outcome }).toEqual({ label, outcome: 4401 });
    }
  });

  test('a connection with a valid token connects and acts as that user', async () => {
    const { login } = await ok(server.url, LOGIN, { email: dana.email, password: dana.password });
    const { client, outcome } = await open({ authorization: `Bearer ${login.token}` });
    expect(outcome).toBe('connected');
    const me = await new Promise<unknown>((resolve, reject) => {
      let data: unknown;
      client.subscribe({ query: ME }, { next: (value) => (data = value), error: reject, complete: () => resolve(data) });
    });
    expect(me).toEqual({ data: { me: { id: dana.id } } });
  });
});

describe('stored users', () => {
  test('passwords are stored hashed', async () => {
    const users = server.app.db.getRepository(User);
    const stored = await users.findOneByOrFail({ id: dana.id });
    expect(stored.passwordHash).not.toBe(dana.password);
    expect(stored.passwordHash).not.toContain(dana.password);
    expect(stored.passwordHash.startsWith('scrypt$')).toBe(true);
    const admin = await users.findOneByOrFail({ id: world.admin.id });
    expect(admin.passwordHash.startsWith('scrypt$')).toBe(true);
    expect(admin.passwordHash).not.toContain(ADMIN.password);

    // Salted: the same password twice is stored two different ways.
    const input = (email: string) => ({ email, name: 'Twin', kind: 'PATIENT', password: dana.password });
    const create = `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`;
    const one = (await world.as(world.admin, create, { input: input('twin1@test.example') })).createUser.id;
    const two = (await world.as(world.admin, create, { input: input('twin2@test.example') })).createUser.id;
    const [h1, h2] = await Promise.all([one, two].map(async (id) => (await users.findOneByOrFail({ id })).passwordHash));
    expect(h1).not.toBe(h2);
    expect(h1).not.toBe(stored.passwordHash);

    // And the hash never reaches the API.
    expect((await gql(server.url, '{ me { passwordHash } }', {}, world.admin.token)).errors?.[0].message).toMatch(/Cannot query field "passwordHash"/);
  });

  test('the start-up admin is a non-contactable professional admin, created once: a restart with the same ADMIN_EMAIL adds or changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carethread-auth-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'carethread.sqlite')}` };
    const admins = (s: TestServer) => s.app.db.getRepository(User).find({ where: { isAdmin: true } });
    try {
      const first = await startTestServer(env);
      let row: User;
      try {
        const { login } = await ok(first.url, LOGIN, { email: ADMIN.email.toUpperCase(), password: ADMIN.password });
        expect(login.user).toEqual({ id: expect.any(String), name: expect.any(String), kind: 'PROFESSIONAL', contactable: false, isAdmin: true });
        // Non-contactable: a professional is not offered the admin as a recipient.
        const colleague = { email: 'colleague@test.example', name: 'Colleague', kind: 'PROFESSIONAL', password: 'password-colleague' };
        await ok(first.url, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: colleague }, login.token);
        const asColleague = (await ok(first.url, LOGIN, { email: colleague.email, password: colleague.password })).login.token;
        const offered = await ok(first.url, '{ recipients(search: "") { ... on UserRecipient { user { id } } } }', {}, asColleague);
        expect(offered.recipients).not.toContainEqual({ user: { id: login.user.id } });
        // Something an admin can change about themself, which a restart must not undo.
        await ok(first.url, `mutation($u: ID!) { setContactable(userId: $u, contactable: true) { id } }`, { u: login.user.id }, login.token);
        const rows = await admins(first);
        expect(rows).toHaveLength(1);
        row = rows[0];
        expect(row).toMatchObject({ id: login.user.id, email: ADMIN.email, contactable: true });
      } finally {
        await first.close();
      }

      // Same email (in any case), another password: the existing admin stays exactly as it is.
      for (const email of [ADMIN.email, ADMIN.email.toUpperCase()]) {
        const again = await startTestServer({ ...env, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'a-different-password-9' });
        try {
          expect(await again.app.db.getRepository(User).count()).toBe(2);
          expect(await admins(again)).toEqual([row]);
          expect((await ok(again.url, LOGIN, ADMIN)).login.user.id).toBe(row.id);
          expect(codeOf((await gql(again.url, LOGIN, { email, password: 'a-different-password-9' })).errors)).toEqual(['UNAUTHENTICATED']);
        } finally {
          await again.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
