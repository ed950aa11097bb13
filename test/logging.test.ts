import { TeamMember } from '../src/modules/teams/team-member.entity';
import { postJson, raw } from './support/http';
import { openClient, wsErrors } from './support/live';
import { memoryLogger, type LogLine } from './support/logs';
import { startTestServer, type TestServer } from './support/server';
import { PASSWORD, World, type Person } from './support/world';

let server: TestServer;
let lines: LogLine[];
let world: World;
let nurse: Person;

beforeAll(async () => {
  const memory = memoryLogger();
  lines = memory.lines;
  server = await startTestServer({}, { logger: memory.logger });
  world = await World.create(server);
  nurse = await world.professional('Logged Nurse');
});
afterAll(() => server.close());

/** The lines logged from now until `work` is done. */
async function linesDuring(work: () => Promise<unknown>): Promise<LogLine[]> {
  const from = lines.length;
  await work();
  // The access log writes its line when the response has finished, just after the client has it.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return lines.slice(from);
}

const accessLines = (logged: LogLine[]) => logged.filter((l) => l.msg === 'request completed' || l.msg === 'request errored');

describe('every HTTP request is logged once, as JSON, under its request id', () => {
  test("a client's X-Request-Id names the request in the access log and comes back in the response", async () => {
    let status = 0;
    let answered: string | null = null;
    const logged = await linesDuring(async () => {
      const res = await postJson(server.url, JSON.stringify({ query: '{ me { id } }' }), { authorization: `Bearer ${nurse.token}`, 'x-request-id': 'gateway-7f3a' });
      status = res.status;
      answered = res.headers.get('x-request-id');
    });
    expect(status).toBe(200);
    expect(answered).toBe('gateway-7f3a');
    expect(accessLines(logged)).toEqual([
      expect.objectContaining({ level: 30, service: 'carethread', requestId: 'gateway-7f3a', req: { method: 'POST', path: '/graphql' }, res: { status: 200 }, responseTime: expect.any(Number) }),
    ]);
  });

  test('without one (or with one that is not a plain token) the server makes an id, answers with it and logs it', async () => {
    for (const given of [undefined, 'has spaces in it', 'x'.repeat(65)]) {
      let answered: string | null = null;
      const logged = await linesDuring(async () => {
        answered = (await postJson(server.url, JSON.stringify({ query: '{ __typename }' }), given ? { 'x-request-id': given } : {})).headers.get('x-request-id');
      });
      expect(answered).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(accessLines(logged).map((l) => l.requestId)).toEqual([answered]);
    }
  });

  test('nothing secret or clinical reaches the log: no token, no password, no query string, no variables', async () => {
    const secretSearch = 'Margaret Hollis DOB 1948';
    const logged = await linesDuring(async () => {
      await postJson(server.url, JSON.stringify({ query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', variables: { e: nurse.email, p: PASSWORD } }));
      const query = encodeURIComponent('query($s: String) { recipients(search: $s) { __typename } }');
      const variables = encodeURIComponent(JSON.stringify({ s: secretSearch }));
      await raw(`${server.url}?query=${query}&variables=${variables}`, { headers: { authorization: `Bearer ${nurse.token}` } });
    });
    expect(accessLines(logged)).toHaveLength(2);
    expect(accessLines(logged)[1].req).toEqual({ method: 'GET', path: '/graphql' });
    const text = JSON.stringify(logged);
    for (const secret of [nurse.token, PASSWORD, 'Margaret', 'recipients', nurse.email]) expect(text).not.toContain(secret);
  });

  test('health probes are not logged, so that they do not drown the requests', async () => {
    const logged = await linesDuring(() => raw(server.url.replace(/\/graphql$/, '/healthz')));
    expect(accessLines(logged)).toEqual([]);
  });
});

describe('a failure is logged with the id the client was given', () => {
  test('every line a failing request logs, the cause and the access line, carries the id in its masked error', async () => {
    const memory = memoryLogger();
    const own = await startTestServer({}, { logger: memory.logger });
    try {
      const ownWorld = await World.create(own);
      const person = await ownWorld.professional('Broken Teams');
      await own.app.db.query(`DROP TABLE ${own.app.db.getMetadata(TeamMember).tablePath}`);
      const from = memory.lines.length;
      const res = await postJson(own.url, JSON.stringify({ query: '{ me { teams { id } } }' }), { authorization: `Bearer ${person.token}` });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const requestId = res.json?.errors?.[0].extensions?.requestId;
      expect(requestId).toBe(res.headers.get('x-request-id'));
      const logged = memory.lines.slice(from);
      expect(logged.map((l) => [l.msg, l.requestId])).toEqual([
        ['unexpected error', requestId],
        ['request completed', requestId],
      ]);
      // Said once: the requestId is in the line itself, never also a binding (a JSON key twice).
      for (const text of memory.texts.slice(from)) expect(text.split('"requestId"')).toHaveLength(2);
      // The failed statement is logged, not the values it was given.
      expect(logged[0].err).toMatchObject({ query: expect.stringMatching(/team_members/), parameters: '[redacted]' });
      expect(JSON.stringify(logged)).not.toContain(person.id);
    } finally {
      await own.close();
    }
  });

  test('over graphql-ws, a failing operation is logged under the id in its masked error, not under another operation', async () => {
    const memory = memoryLogger();
    const own = await startTestServer({}, { logger: memory.logger });
    const ownWorld = await World.create(own);
    const { client } = openClient(own.wsUrl, ownWorld.admin.token);
    try {
      expect((await wsErrors(client, '{ me { id } }')).errors).toEqual([]);
      await own.app.db.query(`DROP TABLE ${own.app.db.getMetadata(TeamMember).tablePath}`);
      const from = memory.lines.length;
      const first = await wsErrors(client, '{ me { teams { id } } }');
      const second = await wsErrors(client, '{ me { teams { id } } }');
      const ids = [...first.errors, ...second.errors].map((e) => e.extensions?.requestId);
      expect(ids).toHaveLength(2);
      expect(ids.every((id) => typeof id === 'string')).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      expect(memory.lines.slice(from).filter((l) => l.level === 50).map((l) => l.requestId)).toEqual(ids);
    } finally {
      await client.dispose();
      await own.close();
    }
  });
});
