import { TeamMember } from '../src/modules/teams/team-member.entity';
import { AuditCheckpoint } from '../src/modules/audit/audit-checkpoint.entity';
import { AuditOrganisationLink } from '../src/modules/audit/audit-organisation-link.entity';
import { entities } from '../src/tables';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { failure, gql, ok } from './support/graphql';
import { expectCleanRefusal, expectNoLeak, postJson, raw } from './support/http';
import { connect, openClient, wsErrors } from './support/live';
import { memoryLogger } from './support/logs';
import { startTestServer, type TestServer } from './support/server';
import { World, type Person } from './support/world';

/** The codes of contract.graphql: every rule a request breaks reports one of these. */
const CONTRACT_CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT'];
/** What GraphQL itself reports for an operation that is not valid GraphQL. */
const MALFORMED_OPERATION_CODES = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'];
/** The code of a request that is not a GraphQL request at all (not JSON, too large, not application/json, a batch). */
const BAD_REQUEST = 'BAD_REQUEST';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const healthz = (s: TestServer) => raw(s.url.replace(/\/graphql$/, '/healthz'));

/** What a request may write: every table but the sealer's, which it writes on its own clock while earlier events are sealed. */
const requestTables = entities.filter((entity) => entity !== AuditCheckpoint && entity !== AuditOrganisationLink);

let server: TestServer;
let world: World;
let pro: Person;
let pat: Person;
beforeAll(async () => {
  server = await startTestServer();
  world = await World.create(server);
  pro = await world.professional('Bad Input Pro');
  pat = await world.patient('Bad Input Pat');
});
afterAll(() => server.close());

/** The server still answers real requests. */
async function expectStillServing(s: TestServer = server): Promise<void> {
  expect((await healthz(s)).status).toBe(200);
  const { me } = await ok(s.url, '{ me { id } }', {}, world.admin.token);
  expect(me.id).toBe(world.admin.id);
}

describe('error codes', () => {
  test('every error a rule raises carries an extensions.code from the contract, and shows no stack', async () => {
    const cases: [string, Record<string, unknown> | undefined, string | undefined, string][] = [
      ['{ me { id } }', undefined, undefined, 'UNAUTHENTICATED'],
      ['{ me { id } }', undefined, 'not-a-token', 'UNAUTHENTICATED'],
      ['mutation { login(email: "nobody@test.example", password: "whatever-1") { token } }', undefined, undefined, 'UNAUTHENTICATED'],
      ['mutation { createTeam(name: "Nope") { id } }', undefined, pro.token, 'FORBIDDEN'],
      ['query($id: ID!) { thread(id: $id) { id } }', { id: UNKNOWN_ID }, pro.token, 'NOT_FOUND'],
      ['query($id: ID!) { auditTrail(threadId: $id) { id } }', { id: UNKNOWN_ID }, pro.token, 'NOT_FOUND'],
      ['mutation($id: ID!) { sendMessage(threadId: $id, body: "hi") { id } }', { id: UNKNOWN_ID }, pro.token, 'NOT_FOUND'],
      ['mutation { createThread(subject: "s", body: "b", recipients: []) { id } }', undefined, pro.token, 'BAD_USER_INPUT'],
      ['mutation($r: [RecipientInput!]!) { createThread(subject: "s", body: "", recipients: $r) { id } }', { r: [{ userId: pat.id }] }, pro.token, 'BAD_USER_INPUT'],
      ['mutation($r: [RecipientInput!]!) { createThread(subject: "s", body: "b", recipients: $r) { id } }', { r: [{}] }, pro.token, 'BAD_USER_INPUT'],
      ['mutation($r: [RecipientInput!]!) { createThread(subject: "s", body: "b", recipients: $r) { id } }', { r: [{ userId: UNKNOWN_ID }] }, pro.token, 'BAD_USER_INPUT'],
      ['mutation($r: [RecipientInput!]!) { createThread(subject: "s", body: "b", recipients: $r) { id } }', { r: [{ userId: pro.id }] }, pat.token, 'BAD_USER_INPUT'],
      ['query { threads(first: -1) { edges { cursor } } }', undefined, pro.token, 'BAD_USER_INPUT'],
      ['query { threads(after: "garbage") { edges { cursor } } }', undefined, pro.token, 'BAD_USER_INPUT'],
      ['query { recipients(first: 100000) { __typename } }', undefined, pro.token, 'BAD_USER_INPUT'],
    ];
    for (const [query, variables, token, expected] of cases) {
      const result = await gql(server.url, query, variables, token);
      const json = JSON.stringify(result);
      expectNoLeak(json);
      expect(result.errors?.length).toBeGreaterThan(0);
      for (const error of result.errors!) {
        expect(CONTRACT_CODES).toContain(error.extensions?.code);
        expect({ query, code: error.extensions?.code }).toEqual({ query, code: expected });
        // Only the code and nothing else: no exception details, no stack.
        expect(Object.keys(error.extensions ?? {})).toEqual(['code']);
      }
    }
  });

  test.each([
    ['a syntax error', '{ me { id ', undefined, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', '{ me { id ssn } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['an unknown argument', '{ teams(secret: true) { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a missing required argument', '{ thread { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable of the wrong type', 'query($id: ID!) { thread(id: $id) { id } }', { id: { nested: true } }, 'BAD_USER_INPUT'],
    ['a missing required variable', 'query($id: ID!) { thread(id: $id) { id } }', {}, 'BAD_USER_INPUT'],
    ['an input object with an unknown field', 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email: 'a@b.example', name: 'n', kind: 'PROFESSIONAL', password: 'password-1', groupId: 'x' } }, 'BAD_USER_INPUT'],
    ['an enum value that does not exist', 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email: 'a@b.example', name: 'n', kind: 'ROBOT', password: 'password-1' } }, 'BAD_USER_INPUT'],
  ])('a malformed operation (%s) gets a clean 400 with GraphQL’s own code', async (_what, query, variables, code) => {
    const res = await postJson(server.url, JSON.stringify({ query, variables }), { authorization: `Bearer ${pro.token}` });
    expect(res.status).toBe(400);
    const error = expectCleanRefusal(res, code);
    expect(MALFORMED_OPERATION_CODES).toContain(error.extensions?.code);
    await expectStillServing();
  });
});

describe('text no field can hold is refused as input, on SQLite and PostgreSQL alike', () => {
  test('a NUL character anywhere (literal or variable, also in an id) is BAD_USER_INPUT, before any resolver runs', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['mutation($t: ID!) { leaveThread(threadId: $t) }', { t: '\u0000' }],
      ['mutation { createTeam(name: "a\\u0000b") { id } }', {}],
      ['mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }', { t: UNKNOWN_ID, b: 'a\u0000b' }],
    ];
    for (const [query, variables] of cases) {
      const { status, errors } = await gql(server.url, query, variables, world.admin.token);
      expect(status).toBe(400);
      expect(errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'Text must not contain NUL characters (U+0000)']]);
    }
  });

  test('a lone UTF-16 surrogate in a body, subject, name, search or reason is BAD_USER_INPUT over HTTP and graphql-ws, and nothing is stored', async () => {
    const colleague = await world.professional('Surrogate Colleague');
    const thread = await world.thread(pro, [{ userId: colleague.id }]);
    const LONE = 'Dose \ud800 twice';
    // Each would succeed with a plain "Dose twice".
    const cases: [Person, string, Record<string, unknown>][] = [
      [pro, 'mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }', { t: thread, b: LONE }],
      [pro, 'mutation($s: String!, $u: ID!) { createThread(subject: $s, body: "Hi", recipients: [{ userId: $u }]) { id } }', { s: LONE, u: colleague.id }],
      [world.admin, 'mutation($n: String!) { createTeam(name: $n) { id } }', { n: LONE }],
      [world.admin, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email: 'lone@example.org', name: 'Eve \udc00', kind: 'PATIENT', password: 'password-1' } }],
      [pro, 'query($q: String) { recipients(search: $q) { __typename } }', { q: '\udbff' }],
      [pro, 'mutation($r: String) { recordAbsence(startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-01-02T00:00:00Z", reason: $r) { id } }', { r: LONE }],
    ];
    const rows = () => Promise.all(requestTables.map((entity) => server.app.db.manager.count(entity)));
    const before = await rows();
    const expected = [['BAD_USER_INPUT', 'Text must be well-formed Unicode (it holds a lone UTF-16 surrogate)']];
    for (const [who, query, variables] of cases) {
      const body = JSON.stringify({ query, variables });
      expect(body).toMatch(/\\ud[89a-f]/);
      const res = await postJson(server.url, body, { authorization: `Bearer ${who.token}` });
      expect(res.status).toBe(400);
      expect(res.json?.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(expected);
      const ws = connect(server.wsUrl, who.token);
      try {
        expect((await wsErrors(ws, query, variables)).errors.map((e) => [e.extensions?.code, e.message])).toEqual(expected);
      } finally {
        await ws.dispose();
      }
    }
    expect(await rows()).toEqual(before);
  });

  test('a person or team name that shows nothing, or holds a bidirectional override, is BAD_USER_INPUT and stores nothing; names are stored in NFC', async () => {
    const createUser = 'mutation($i: CreateUserInput!) { createUser(input: $i) { id name } }';
    const createTeam = 'mutation($n: String!) { createTeam(name: $n) { id name } }';
    const person = (name: string) => ({ i: { email: `n${Math.random().toString(36).slice(2)}@example.org`, name, kind: 'PROFESSIONAL', password: 'password-1' } });
    const rows = () => Promise.all(requestTables.map((entity) => server.app.db.manager.count(entity)));
    const before = await rows();
    for (const [name, message] of [
      ['\u200b\u200d\u2060', 'name must hold a visible character'],
      ['\u3164', 'name must hold a visible character'],
      ['Dr \u202eenoD', /^name must not hold bidirectional override/],
      ['\u2066Admin\u2069', /^name must not hold bidirectional override/],
    ] as const) {
      for (const [query, variables] of [[createUser, person(name)], [createTeam, { n: name }]] as const) {
        const error = await failure(server.url, query, variables, world.admin.token);
        expect(error.extensions?.code).toBe('BAD_USER_INPUT');
        expect(error.message).toMatch(message);
      }
    }
    expect(await rows()).toEqual(before);
    const decomposed = 'Rene\u0301 Care\u0301';
    expect((await ok(server.url, createUser, person(decomposed), world.admin.token)).createUser.name).toBe('Ren\u00e9 Car\u00e9');
    expect((await ok(server.url, createTeam, { n: decomposed }, world.admin.token)).createTeam.name).toBe('Ren\u00e9 Car\u00e9');
  });

  test('a team name over 200 characters, and an e-mail address a validator chokes on, are BAD_USER_INPUT', async () => {
    const long = await gql(server.url, 'mutation($n: String!) { createTeam(name: $n) { id } }', { n: 'x'.repeat(201) }, world.admin.token);
    expect(long.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'name must be at most 200 characters']]);
    const input = { email: '\ud800@example.com', name: 'Lone Surrogate', kind: 'PROFESSIONAL', password: 'password-1234' };
    const odd = await gql(server.url, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: input }, world.admin.token);
    expect(odd.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('malformed requests get a clean 4xx, never a 5xx, and the server keeps serving', () => {
  test('a body that is not JSON', async () => {
    for (const body of ['{"query": ', 'not json at all', '{"query": "{ me { id } }",}']) {
      const error = expectCleanRefusal(await postJson(server.url, body), BAD_REQUEST);
      expect(error.message).toMatch(/JSON/);
    }
    await expectStillServing();
  });

  test('a JSON body that is not a GraphQL request', async () => {
    for (const body of ['{}', '[1, 2]', '"just a string"', '{"query": 5}', '{"query": "{ me { id } }", "variables": "x"}']) {
      const res = await postJson(server.url, body);
      expectCleanRefusal(res, BAD_REQUEST);
    }
    await expectStillServing();
  });

  test('a body over 1 MB', async () => {
    const body = JSON.stringify({ query: '{ me { id } }', variables: { padding: 'x'.repeat(1_100_000) } });
    const res = await postJson(server.url, body, { authorization: `Bearer ${world.admin.token}` });
    expect(res.status).toBe(413);
    expect(expectCleanRefusal(res, BAD_REQUEST).message).toMatch(/too large/i);
    await expectStillServing();
  });

  test('a body in an unsupported charset', async () => {
    const res = await postJson(server.url, JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'application/json; charset=klingon' });
    expectCleanRefusal(res, BAD_REQUEST);
    await expectStillServing();
  });

  test('many bad requests at once do not take the server down', async () => {
    const bad = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0 ? postJson(server.url, '{"query": ') : i % 3 === 1 ? postJson(server.url, JSON.stringify({ query: '{ nope }' })) : postJson(server.url, '[]'),
      ),
    );
    for (const res of bad) {
      expect(res.status).toBe(400);
      expectNoLeak(res.text);
    }
    await expectStillServing();
  });
});

describe('CSRF-style requests are refused: operations run only from a JSON POST, or a query from a GET', () => {
  const teamNames = async () => ((await ok(server.url, '{ teams { name } }', {}, world.admin.token)).teams as { name: string }[]).map((t) => t.name);

  test('a GET with a mutation is refused (405) and changes nothing', async () => {
    const query = encodeURIComponent('mutation { createTeam(name: "Csrf via GET") { id } }');
    const res = await raw(`${server.url}?query=${query}`, { headers: { authorization: `Bearer ${world.admin.token}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(expectCleanRefusal(res, BAD_REQUEST).message).toMatch(/POST/);
    expect(await teamNames()).not.toContain('Csrf via GET');
  });

  test('a POST with content-type text/plain (or a form) is refused and changes nothing', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const name = `Csrf via ${contentType}`;
      const res = await raw(server.url, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${world.admin.token}` },
        body: JSON.stringify({ query: `mutation { createTeam(name: ${JSON.stringify(name)}) { id } }` }),
      });
      expect(res.status).toBe(415);
      expect(expectCleanRefusal(res, BAD_REQUEST).message).toMatch(/Content-Type: application\/json/);
      expect(await teamNames()).not.toContain(name);
    }
  });

  test('a GET query works, but a GET mutation never does', async () => {
    const headers = { authorization: `Bearer ${world.admin.token}` };
    const read = await raw(`${server.url}?query=${encodeURIComponent('{ me { id } }')}`, { headers });
    expect(read.status).toBe(200);
    expect(read.json?.data).toEqual({ me: { id: world.admin.id } });
    const write = await raw(`${server.url}?query=${encodeURIComponent('mutation { createTeam(name: "Csrf preflight") { id } }')}`, { headers });
    expect(write.status).toBe(405);
    expectNoLeak(write.text);
    expect(await teamNames()).not.toContain('Csrf preflight');
  });
});

describe('unexpected internal errors are masked and logged', () => {
  test('a failing field is masked as "Internal server error" with INTERNAL_SERVER_ERROR and no details, and is logged', async () => {
    const { logger, lines } = memoryLogger();
    const own = await startTestServer({}, { logger });
    try {
      const ownWorld = await World.create(own);
      const person = await ownWorld.professional('Broken Teams');
      // A real internal failure: the table behind User.teams is gone.
      await own.app.db.query(`DROP TABLE ${own.app.db.getMetadata(TeamMember).tablePath}`);
      const res = await postJson(own.url, JSON.stringify({ query: '{ me { id teams { id } } }' }), { authorization: `Bearer ${person.token}` });
      expect(res.status).toBeLessThan(500); // a field error: the request itself was fine
      expectNoLeak(res.text);
      expect(res.text).not.toMatch(/team_members|sqlite|QueryFailed|SELECT/i);
      const requestId = res.headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.json?.errors).toEqual([
        { message: 'Internal server error', locations: [{ line: 1, column: 11 }], path: ['me', 'teams'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
      ]);
      // The requests' errors, each with its request id; the background work (the audit sealer's
      // rounds, every 200 ms) logs its own failures without one.
      const logged = lines.filter((l) => l.level === 50 && l.requestId !== undefined);
      expect(logged).toHaveLength(1);
      // The id in the answer finds the logged cause.
      expect(logged[0].requestId).toBe(requestId);
      expect(JSON.stringify(logged[0])).toMatch(/no such table: team_members|relation \\"[\w.]*team_members\\" does not exist/);
      expect((logged[0].err as { stack?: string }).stack).toMatch(/\n\s+at /);
    } finally {
      await own.close();
    }
  });

  test('a failure outside any resolver (the database is closed) is masked, logged, and nothing leaks', async () => {
    const { logger, lines } = memoryLogger();
    const own = await startTestServer({}, { logger });
    const ownWorld = await World.create(own);
    await own.app.db.destroy();
    try {
      // With a token the failure comes while building the request context.
      const me = await postJson(own.url, JSON.stringify({ query: '{ me { id } }' }), { authorization: `Bearer ${ownWorld.admin.token}` });
      expect(me.status).toBe(500);
      expectNoLeak(me.text);
      expect(me.json?.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: me.headers.get('x-request-id') } }]);
      // Without one it comes from the login resolver.
      const login = await postJson(own.url, JSON.stringify({ query: 'mutation { login(email: "a@test.example", password: "password-1") { token } }' }));
      expectNoLeak(login.text);
      expect(login.json?.errors).toEqual([
        { message: 'Internal server error', locations: [{ line: 1, column: 12 }], path: ['login'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: login.headers.get('x-request-id') } },
      ]);
      for (const res of [me, login]) expect(res.text).not.toMatch(/connection|database|sqlite|SELECT/i);
      // The requests' errors, each with its request id; the background work (the audit sealer's
      // rounds, every 200 ms) logs its own failures without one.
      const logged = lines.filter((l) => l.level === 50 && l.requestId !== undefined);
      expect(logged.map((l) => l.requestId)).toEqual([me, login].map((res) => res.headers.get('x-request-id')));
      for (const line of logged) expect(JSON.stringify(line)).toMatch(/connection is not open|Driver not Connected/);
      // The readiness check tells the truth without detail.
      const ready = await raw(own.url.replace(/\/graphql$/, '/readyz'));
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({ status: 'unavailable', checks: { database: 'failed' } });
    } finally {
      await own.app.db.initialize(); // so that close() can close it again
      await own.close();
    }
  });
});

describe('over graphql-ws errors are formatted the same way', () => {
  let client: Client;
  let closes: { code: number; reason: string }[];
  beforeAll(() => {
    ({ client, closes } = openClient(server.wsUrl, pro.token));
  });
  afterAll(() => client.dispose());

  test.each([
    ['a syntax error', 'subscription { messageAdded { id ', undefined, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', 'subscription { messageAdded { id ssn } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable of the wrong type', 'subscription($t: ID) { messageAdded(threadId: $t) { id } }', { t: { nested: true } }, 'BAD_USER_INPUT'],
    ['a thread the caller may not see', 'subscription($t: ID) { messageAdded(threadId: $t) { id } }', { t: UNKNOWN_ID }, 'NOT_FOUND'],
    ['a query that breaks a rule', 'query($id: ID!) { thread(id: $id) { id } }', { id: UNKNOWN_ID }, 'NOT_FOUND'],
    ['a mutation that is not allowed', 'mutation { createTeam(name: "Over ws") { id } }', undefined, 'FORBIDDEN'],
  ])('%s gives a coded error with no stack, and the socket stays open', async (_what, query, variables, code) => {
    const { errors, raw: text } = await wsErrors(client, query, variables);
    expectNoLeak(text);
    expect(errors).toHaveLength(1);
    expect(errors[0].extensions).toEqual({ code });
    // An error message, not a closed socket: the same socket runs the next operation.
    const { errors: none } = await wsErrors(client, '{ __typename }');
    expect(none).toEqual([]);
    expect(closes).toEqual([]);
  });

  test('the same bad operation gets the same error over HTTP and over graphql-ws', async () => {
    const operations: [string, Record<string, unknown>?][] = [
      ['{ me { id ssn } }'],
      ['{ me { id '],
      ['query($id: ID!) { thread(id: $id) { id } }', { id: UNKNOWN_ID }],
      ['query($id: ID!) { thread(id: $id) { id } }', { id: 42.5 }],
    ];
    for (const [query, variables] of operations) {
      const http = await gql(server.url, query, variables, pro.token);
      const ws = await wsErrors(client, query, variables);
      expect(ws.errors).toEqual(http.errors);
    }
  });

  test('an internal error is masked and logged, whether it comes while subscribing or while connecting', async () => {
    const { logger, lines } = memoryLogger();
    const own = await startTestServer({}, { logger });
    const ownWorld = await World.create(own);
    const { client: early, closes: earlyCloses } = openClient(own.wsUrl, ownWorld.admin.token);
    const silenced = jest.spyOn(console, 'error').mockImplementation(() => undefined); // graphql-ws's own report of a failed connection
    try {
      expect((await wsErrors(early, '{ me { id } }')).errors).toEqual([]); // connected while the database was up
      // The sealer polls the database on its own clock: its failures would be logged too, with no request.
      await own.app.auditSealer.stop();
      await own.app.db.destroy();
      const { errors, raw: text } = await wsErrors(early, '{ me { id } }');
      expectNoLeak(text);
      expect(text).not.toMatch(/connection|database|sqlite|SELECT/i);
      expect(errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) } }]);
      expect(earlyCloses).toEqual([]);
      expect(lines.filter((l) => l.level === 50).map((l) => l.requestId)).toEqual([errors[0].extensions?.requestId]);

      // A new connection cannot even check its token: it is closed with a masked reason.
      const late = createClient({
        url: own.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ownWorld.admin.token}` },
        retryAttempts: 0,
      });
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        late.on('closed', (event) => resolve(event as { code: number; reason: string }));
        late.subscribe({ query: '{ me { id } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      });
      await late.dispose();
      expect(closed.code).toBe(4500);
      expect(closed.reason).toBe('Internal server error');

      const logged = lines.filter((l) => l.level === 50).map((l) => JSON.stringify(l));
      expect(logged).toHaveLength(2);
      for (const line of logged) expect(line).toMatch(/connection is not open|Driver not Connected/);
    } finally {
      silenced.mockRestore();
      await early.dispose();
      await own.app.db.initialize();
      await own.close();
    }
  });
});
