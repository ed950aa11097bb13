import { getIntrospectionQuery, GraphQLError, type GraphQLFormattedError, type ValidationRule } from 'graphql';
import { MAX_OPERATIONS_PER_SOCKET } from '../src/websocket';
import { User } from '../src/modules/users/user.entity';
import { startChildServer } from './support/child-server';
import { gql, ok } from './support/graphql';
import { RawSocket } from './support/fuzz';
import { expectCleanRefusal, postJson } from './support/http';
import { LIMITS } from './support/limit-operations';
import { connect, openClient, subscribe, until, wsErrors } from './support/live';
import { startTestServer } from './support/server';
import { useWorld, World, type Person } from './support/world';

const env = useWorld();
/** A professional in a thread with one message, who runs the operations below. */
let caller: Person;
let vars: { id: string };
beforeAll(async () => {
  caller = await env.world.professional('Limits Caller');
  const colleague = await env.world.professional('Limits Colleague');
  vars = { id: await env.world.thread(caller, [{ userId: colleague.id }]) };
});

/** Refusals seen, printed at the end. */
const refused = { http: 0, ws: 0 };
afterAll(() => console.log(`operation limits: ${LIMITS.length} limits, refused ${refused.http} over HTTP and ${refused.ws} over graphql-ws (400s, coded, no 5xx)`));

describe('each operation limit holds over HTTP, with a 400 and a coded error', () => {
  test.each(LIMITS)('%s', async (_limit, inside, over, code, message) => {
    const { server } = env;
    await ok(server.url, inside, vars, caller.token);
    const res = await postJson(server.url, JSON.stringify({ query: over, variables: vars }), { authorization: `Bearer ${caller.token}` });
    expect(res.status).toBe(400);
    expect(expectCleanRefusal(res, code).message).toMatch(message);
    refused.http++;
  });

  test('the standard introspection query (as GraphiQL sends it) is within every limit', async () => {
    const { __schema } = await ok(env.server.url, getIntrospectionQuery());
    expect(__schema.queryType.name).toBe('Query');
  });

  test('page sizes over 100 are refused, not trimmed', async () => {
    const { world, server } = env;
    for (const query of ['{ threads(first: 101) { edges { cursor } } }', '{ recipients(first: 1000) { __typename } }']) {
      const { errors } = await gql(server.url, query, {}, world.admin.token);
      expect(errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', 'first must be between 1 and 100']]);
    }
  });

  test('a subscription over HTTP is refused with 400 and a pointer to graphql-ws, even one graphql-js would choke on', async () => {
    const { world, server } = env;
    for (const query of ['subscription { messageAdded { id } }', 'subscription($v: Boolean) { messageAdded @include(if: $v) { id } }']) {
      const res = await postJson(server.url, JSON.stringify({ query }), { authorization: `Bearer ${world.admin.token}` });
      expect(res.status).toBe(400);
      expect(expectCleanRefusal(res, 'BAD_REQUEST').message).toMatch(/graphql-ws/);
    }
  });

  test('a batch of operations in one HTTP request is refused', async () => {
    const { world, server } = env;
    const batch = JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]);
    const res = await postJson(server.url, batch, { authorization: `Bearer ${world.admin.token}` });
    expect(res.status).toBe(400);
    expect(expectCleanRefusal(res, 'BAD_REQUEST').message).toMatch(/batch/i);
  });
});

describe('the rules are one list: a rule added there is met over HTTP and graphql-ws alike', () => {
  test('a server given one more rule refuses it on both transports with the same error, and runs the rest', async () => {
    const closedOrganisations: ValidationRule = (context) => ({
      Field(node) {
        if (node.name.value === 'organisations') context.reportError(new GraphQLError('Organisations are closed for this test', { nodes: node }));
      },
    });
    const server = await startTestServer({}, { rules: (rules) => ({ ...rules, validation: [...rules.validation, closedOrganisations] }) });
    const world = await World.create(server);
    const { client } = openClient(server.wsUrl, world.admin.token);
    try {
      const res = await postJson(server.url, JSON.stringify({ query: '{ organisations { id } }' }), { authorization: `Bearer ${world.admin.token}` });
      expect(res.status).toBe(400);
      expect(expectCleanRefusal(res, 'GRAPHQL_VALIDATION_FAILED').message).toBe('Organisations are closed for this test');
      const ws = await wsErrors(client, '{ organisations { id } }');
      expect(ws.errors).toEqual(res.json?.errors);
      expect((await wsErrors(client, '{ me { id } }')).errors).toEqual([]);
      await ok(server.url, '{ me { id } }', {}, world.admin.token);
      // The default server runs the same operation.
      await ok(env.server.url, '{ organisations { id } }', {}, env.world.admin.token);
    } finally {
      await client.dispose();
      await server.close();
    }
  });
});

describe('the same limits hold over graphql-ws', () => {
  test.each(LIMITS)('%s: the same error as over HTTP, and the socket stays open', async (_limit, inside, over) => {
    const { server } = env;
    const { client, closes } = openClient(server.wsUrl, caller.token);
    try {
      expect((await wsErrors(client, inside, vars)).errors).toEqual([]);
      const http = await gql(server.url, over, vars, caller.token);
      const ws = await wsErrors(client, over, vars);
      expect(ws.errors).toEqual(http.errors);
      expect(ws.errors).toHaveLength(1);
      refused.ws++;
      expect((await wsErrors(client, '{ __typename }')).errors).toEqual([]);
      expect(closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  test('a subscription over the cost limit is refused before it starts', async () => {
    const { world, server } = env;
    const { client } = openClient(server.wsUrl, world.admin.token);
    try {
      const deep = `subscription { messageAdded { thread { messages(first: 100) { edges { node { thread { participants { user { teams { members { id } } } } } } } } } } }`;
      const { errors } = await wsErrors(client, deep);
      expect(errors.map((e: GraphQLFormattedError) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(env.server.live.size).toBe(0);
    } finally {
      await client.dispose();
    }
  });
});

/** A raw graphql-transport-ws socket (to send what the graphql-ws client never would) and a text frame of `message`. */
const rawSocket = (server: { wsUrl: string }) => new RawSocket(server.wsUrl, 'graphql-transport-ws');
const text = (message: unknown) => ({ kind: 'text' as const, data: JSON.stringify(message) });
const closedWithin = async (socket: RawSocket, timeoutMs: number) => ((await socket.until(() => socket.closed !== null, timeoutMs)) ? socket.closed : null);
/** Starts operation `id` on a raw socket: messageAdded unless told otherwise. */
const subscribeOn = (socket: RawSocket, id: string, query = 'subscription { messageAdded { id } }') => socket.send(text({ id, type: 'subscribe', payload: { query } }));
const completeOn = (socket: RawSocket, id: string) => socket.send(text({ id, type: 'complete' }));
/** The first message the server sent about operation `id`, once there is one (undefined after 3 s). */
const answerTo = async (socket: RawSocket, id: string) => {
  const about = (m: string) => m.includes(`"id":"${id}"`);
  await socket.until(() => socket.received.some(about), 3_000);
  return socket.received.find(about);
};

describe('websocket limits', () => {
  test('a frame over 64 KB closes the socket (1009) and the server goes on', async () => {
    const { world, server } = env;
    const socket = rawSocket(server);
    await socket.open;
    await socket.send(text({ type: 'connection_init', payload: { authorization: `Bearer ${world.admin.token}` } }));
    await subscribeOn(socket, '1', `{ me { id } } # ${'x'.repeat(64 * 1024)}`);
    expect((await closedWithin(socket, 3_000))?.code).toBe(1009);
    await ok(server.url, '{ me { id } }', {}, world.admin.token);
  });

  test('a socket that does not send connection_init within 3 s is closed (4408)', async () => {
    const started = Date.now();
    const socket = rawSocket(env.server);
    await socket.open;
    expect((await closedWithin(socket, 5_000))?.code).toBe(4408);
    expect(Date.now() - started).toBeLessThan(4_500);
  });

  /** A raw socket past connection_ack, as the admin (or whoever `token` signs in). */
  async function acknowledged(server: { wsUrl: string } = env.server, token = env.world.admin.token): Promise<RawSocket> {
    const socket = rawSocket(server);
    await socket.open;
    await socket.send(text({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    expect(await socket.until(() => socket.received.includes('{"type":"connection_ack"}'), 3_000)).toBe(true);
    return socket;
  }

  test('a client sending a message only servers send is closed with 4400, not as an internal error', async () => {
    for (const type of ['connection_ack', 'next', 'error']) {
      const socket = await acknowledged();
      await socket.send(text({ id: '1', type, payload: type === 'error' ? [] : {} }));
      expect(await closedWithin(socket, 3_000)).toEqual({ code: 4400, reason: 'Invalid message received' });
    }
  });

  test('a duplicate subscription id is closed with 4409, its reason cut to the 123 bytes a close frame holds', async () => {
    const socket = await acknowledged();
    const id = 'x'.repeat(200);
    await subscribeOn(socket, id, 'subscription { threadActivity { kind } }');
    await subscribeOn(socket, id, 'subscription { threadActivity { kind } }');
    const closed = await closedWithin(socket, 3_000);
    expect(closed?.code).toBe(4409);
    expect(Buffer.byteLength(closed!.reason)).toBeLessThanOrEqual(123);
    await until(() => env.server.live.size === 0);
  });

  test('an id completed and subscribed again before its first subscription started leaves nothing behind once the socket closes', async () => {
    const socket = await acknowledged();
    await subscribeOn(socket, '1');
    await completeOn(socket, '1');
    await subscribeOn(socket, '1');
    await until(() => env.server.live.size > 0);
    await socket.close();
    await until(() => env.server.live.size === 0 && env.server.app.liveSessions.size === 0);
  });

  test('a socket running many subscriptions, at once or one after another, keeps nothing of the ended ones', async () => {
    // In a process of its own, whose output is the server's alone: Node warns there once an
    // emitter holds more than 10 listeners of one event, the sign of a socket that would keep
    // every ended subscription (and what it holds) until it closes.
    const child = await startChildServer({ DATABASE_URL: 'sqlite::memory:' });
    try {
      const socket = await acknowledged(child, (await World.create(child)).admin.token);
      const subscribed = (count: number) => until(async () => (await child.subscriberCount()) === count);
      const together = Array.from({ length: 15 }, (_, i) => `together-${i}`);
      for (const id of together) await subscribeOn(socket, id);
      await subscribed(together.length);
      for (const id of together) await completeOn(socket, id);
      await subscribed(0);
      for (let i = 0; i < 15; i++) {
        await subscribeOn(socket, `${i}`);
        await subscribed(1);
        await completeOn(socket, `${i}`);
        await subscribed(0);
      }
      await socket.close();
    } finally {
      await child.close();
    }
    expect(child.output()).toBe('');
  });

  test("a subscription's root field cannot be skipped or included conditionally (graphql-js 16 would crash on it)", async () => {
    const socket = await acknowledged();
    await subscribeOn(socket, '1', 'subscription { messageAdded @include(if: false) { id } }');
    expect(await socket.until(() => socket.received.some((m) => m.includes('"type":"error"')), 3_000)).toBe(true);
    const error = JSON.parse(socket.received.find((m) => m.includes('"type":"error"'))!);
    expect(error.payload.map((e: GraphQLFormattedError) => [e.extensions?.code, e.message])).toEqual([
      ['GRAPHQL_VALIDATION_FAILED', "A subscription's root field cannot take @skip or @include"],
    ]);
    expect(socket.closed).toBeNull();
    await socket.close();
  });

  test('a socket runs at most MAX_OPERATIONS_PER_SOCKET operations at once; one more is refused with TOO_MANY_REQUESTS and the socket stays open', async () => {
    const socket = await acknowledged();
    for (let i = 0; i < MAX_OPERATIONS_PER_SOCKET; i++) await subscribeOn(socket, `${i}`);
    await until(() => env.server.live.size === MAX_OPERATIONS_PER_SOCKET);

    await subscribeOn(socket, 'one-more');
    const answer = await answerTo(socket, 'one-more');
    expect(answer).toBeDefined();
    const refusal = JSON.parse(answer!);
    expect([refusal.type, refusal.payload.map((e: GraphQLFormattedError) => [e.extensions?.code, e.message])]).toEqual([
      'error',
      [['TOO_MANY_REQUESTS', `At most ${MAX_OPERATIONS_PER_SOCKET} operations run at once on one connection: complete one first`]],
    ]);
    expect(env.server.live.size).toBe(MAX_OPERATIONS_PER_SOCKET);

    // Once one ends, there is room again on the same socket.
    await completeOn(socket, '0');
    await until(() => env.server.live.size === MAX_OPERATIONS_PER_SOCKET - 1);
    await subscribeOn(socket, 'in-its-place');
    await until(() => env.server.live.size === MAX_OPERATIONS_PER_SOCKET);
    expect(socket.closed).toBeNull();
    await socket.close();
    await until(() => env.server.live.size === 0);
  });

  test('subscriptions graphql-ws lost track of (an id completed and subscribed again before it started) count towards MAX_OPERATIONS_PER_SOCKET', async () => {
    const socket = await acknowledged();
    // A round leaves one live subscription in graphql-ws's books and, when the complete came
    // before the first subscribe started (as it mostly does), a second one out of them.
    let rounds = 0;
    while (env.server.live.size < MAX_OPERATIONS_PER_SOCKET) {
      const id = `${rounds++}`;
      await subscribeOn(socket, id);
      await completeOn(socket, id);
      await subscribeOn(socket, id);
      // Answered after the round's subscribes have started: they were asked first.
      await subscribeOn(socket, `settled-${id}`, '{ __typename }');
      expect(await answerTo(socket, `settled-${id}`)).toBeDefined();
    }
    // Fewer rounds than places: some of the subscriptions filling them are out of graphql-ws's books.
    expect(rounds).toBeLessThan(MAX_OPERATIONS_PER_SOCKET);
    await subscribeOn(socket, 'one-more');
    expect(await answerTo(socket, 'one-more')).toContain('"code":"TOO_MANY_REQUESTS"');
    await socket.close();
    await until(() => env.server.live.size === 0);
  });

  test('a user holds at most MAX_SOCKETS_PER_USER sockets; one more is closed with 4429, others are not affected', async () => {
    const server = await startTestServer({ MAX_SOCKETS_PER_USER: '2' });
    try {
      const world = await World.create(server);
      const nurse = await world.professional('Nurse With Many Tabs');
      const doctor = await world.professional('Doctor With One Tab');
      const open = [connect(server.wsUrl, nurse.token), connect(server.wsUrl, nurse.token)];
      const feeds = open.map((c) => subscribe(c, 'subscription { threadActivity { kind } }'));
      await until(() => server.app.liveSessions.count(nurse.id) === 2);

      const { client: third, closes } = openClient(server.wsUrl, nurse.token);
      const refused = await wsErrors(third, '{ me { id } }').catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      expect(closes.map((c) => [c.code, c.reason])).toEqual([[4429, 'Too many open connections']]);
      await third.dispose();

      const other = connect(server.wsUrl, doctor.token);
      expect((await wsErrors(other, '{ me { id } }')).errors).toEqual([]);
      await other.dispose();

      // A closed tab frees its place.
      await open[0].dispose();
      await until(() => server.app.liveSessions.count(nurse.id) === 1);
      const again = connect(server.wsUrl, nurse.token);
      expect((await wsErrors(again, '{ me { id } }')).errors).toEqual([]);
      expect(feeds[1].errors).toEqual([]);
      await Promise.all([again.dispose(), open[1].dispose()]);
    } finally {
      await server.close();
    }
  });
});

describe('introspection is a setting', () => {
  test('INTROSPECTION=false refuses __schema and __type over HTTP and graphql-ws; ordinary queries still work', async () => {
    const server = await startTestServer({ INTROSPECTION: 'false' });
    try {
      const token = (await ok(server.url, 'mutation { login(email: "admin@test.example", password: "admin-password-1") { token } }')).login.token;
      for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "User") { name } }']) {
        const http = await gql(server.url, query, {}, token);
        expect(http.status).toBe(400);
        expect(new Set(http.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
        const client = connect(server.wsUrl, token);
        expect((await wsErrors(client, query)).errors).toEqual(http.errors);
        await client.dispose();
      }
      await ok(server.url, '{ me { id __typename } }', {}, token);
    } finally {
      await server.close();
    }
  });
});

describe('without introspection, no error suggests a name of the schema', () => {
  /** Mistakes graphql-js answers with "Did you mean ...?": in validation, and in a variable's value. */
  const MISTAKES: [string, string, Record<string, unknown>][] = [
    ['a field', '{ me { nam } }', {}],
    ['an argument', '{ threads(frist: 1) { edges { cursor } } }', {}],
    ['an enum value', 'mutation { createUser(input: { email: "a@b.c", name: "A", kind: PATIENTT, password: "12345678" }) { id } }', {}],
    ['a variable', 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { email: 'a@b.c', name: 'A', kind: 'PATIENTT', password: '12345678' } }],
  ];

  const messages = async (url: string, wsUrl: string, token: string): Promise<{ http: string[]; ws: string[] }[]> =>
    Promise.all(
      MISTAKES.map(async ([, query, variables]) => {
        const client = connect(wsUrl, token);
        try {
          const ws = (await wsErrors(client, query, variables)).errors.map((e) => e.message);
          return { http: (await gql(url, query, variables, token)).errors!.map((e) => e.message), ws };
        } finally {
          await client.dispose();
        }
      }),
    );

  test('with INTROSPECTION=false the same mistakes get the same errors over HTTP and graphql-ws, without "Did you mean"', async () => {
    const suggested = await messages(env.server.url, env.server.wsUrl, caller.token);
    for (const { http, ws } of suggested) {
      expect(http.join()).toMatch(/Did you mean/);
      expect(ws).toEqual(http);
    }
    const server = await startTestServer({ INTROSPECTION: 'false' });
    try {
      const token = (await ok(server.url, 'mutation { login(email: "admin@test.example", password: "admin-password-1") { token } }')).login.token;
      const hidden = await messages(server.url, server.wsUrl, token);
      hidden.forEach(({ http, ws }, i) => {
        expect(http).toEqual(suggested[i].http.map((message) => message.replace(/ Did you mean .*$/, '')));
        expect(ws).toEqual(http);
      });
    } finally {
      await server.close();
    }
  });
});

describe('the database refuses vague lookups', () => {
  test('a where with an undefined or null value throws instead of matching any row', async () => {
    const manager = env.server.app.db.manager;
    await expect(manager.findOneBy(User, { id: undefined })).rejects.toThrow(/undefined/i);
    await expect(manager.findOneBy(User, { id: null as unknown as string })).rejects.toThrow(/null/i);
  });
});
