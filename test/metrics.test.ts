import { isObjectType } from 'graphql';
import { getSchema } from '../src/schema';
import { gql, ok } from './support/graphql';
import { raw } from './support/http';
import { connect, openClient, subscribe, until, untilSubscribed, wsErrors } from './support/live';
import { scrape, total, type Sample } from './support/metrics';
import { startTestServer } from './support/server';
import { asRecipient, PASSWORD, useLiveWorld } from './support/world';

const env = useLiveWorld();

const REQUESTS = 'carethread_graphql_requests_total';
const ERRORS = 'carethread_graphql_errors_total';
const ACTIVE = 'carethread_subscriptions_active';
const DELIVERIES = 'carethread_subscription_deliveries_total';
const SOCKETS = 'carethread_websockets_open';
const SEND = 'carethread_send_duration_seconds';
const UNKNOWN = '(unknown)';
/** Every label the server's own metrics have (`le`: a histogram's bucket). */
const LABELS = new Set(['transport', 'type', 'field', 'code', 'mutation', 'result', 'channel', 'le']);

/** How much each of `counts` moved while `work` ran. */
async function deltas(work: () => Promise<unknown>, counts: Record<string, [string, Record<string, string>]>): Promise<Record<string, number>> {
  const before = await scrape(env.server.url);
  await work();
  const after = await scrape(env.server.url);
  return Object.fromEntries(Object.entries(counts).map(([key, [name, labels]]) => [key, total(after, name, labels) - total(before, name, labels)]));
}

const metricsUrl = (url: string) => url.replace(/\/graphql$/, '/metrics');

describe('requests and errors over HTTP are counted by operation type and root field', () => {
  test('a login and a query count once per distinct root field, under schema names: never an alias or the operation name', async () => {
    const pro = await env.world.professional('Metrics Counted');
    let text = '';
    const moved = await deltas(
      async () => {
        await ok(env.server.url, `mutation ClinicJaneDoeSignIn($e: String!, $p: String!) { signIn: login(email: $e, password: $p) { token } }`, { e: pro.email, p: PASSWORD });
        await ok(env.server.url, `query JaneDoeRecord { janeFirst: me { id } janeSecond: me { name } __typename }`, {}, pro.token);
        text = await (await fetch(metricsUrl(env.server.url))).text();
      },
      {
        login: [REQUESTS, { transport: 'http', type: 'mutation', field: 'login' }],
        me: [REQUESTS, { transport: 'http', type: 'query', field: 'me' }],
        typename: [REQUESTS, { transport: 'http', type: 'query', field: '__typename' }],
        errors: [ERRORS, { transport: 'http' }],
      },
    );
    expect(moved).toEqual({ login: 1, me: 1, typename: 1, errors: 0 });
    for (const chosen of ['ClinicJaneDoeSignIn', 'signIn', 'JaneDoeRecord', 'janeFirst', 'janeSecond']) expect(text).not.toContain(chosen);
  });

  test('a request that does not parse, and one asking for an unknown field, count under "(unknown)" with their codes; the unknown name is never a label', async () => {
    const pro = await env.world.professional('Metrics Bad Query');
    let text = '';
    const moved = await deltas(
      async () => {
        expect((await gql(env.server.url, '{ me { id ', {}, pro.token)).errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
        expect((await gql(env.server.url, '{ patientJaneDoeRecord { id } }', {}, pro.token)).errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        text = await (await fetch(metricsUrl(env.server.url))).text();
      },
      {
        unparsed: [REQUESTS, { transport: 'http', type: UNKNOWN, field: UNKNOWN }],
        parseError: [ERRORS, { transport: 'http', type: UNKNOWN, field: UNKNOWN, code: 'GRAPHQL_PARSE_FAILED' }],
        unknownField: [REQUESTS, { transport: 'http', type: 'query', field: UNKNOWN }],
        validationError: [ERRORS, { transport: 'http', type: 'query', field: UNKNOWN, code: 'GRAPHQL_VALIDATION_FAILED' }],
      },
    );
    expect(moved).toEqual({ unparsed: 1, parseError: 1, unknownField: 1, validationError: 1 });
    expect(text).not.toContain('patientJaneDoeRecord');
  });

  test('a FORBIDDEN error counts under its own root field (through its alias), not under the other root field of the request', async () => {
    const pro = await env.world.professional('Metrics Forbidden');
    const moved = await deltas(
      async () => {
        const result = await gql(env.server.url, `{ me { id } janeLog: myAccessLog { pageInfo { hasNextPage } } }`, {}, pro.token);
        expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['janeLog'], 'FORBIDDEN']]);
      },
      {
        me: [REQUESTS, { transport: 'http', type: 'query', field: 'me' }],
        accessLog: [REQUESTS, { transport: 'http', type: 'query', field: 'myAccessLog' }],
        forbidden: [ERRORS, { transport: 'http', type: 'query', field: 'myAccessLog', code: 'FORBIDDEN' }],
        meErrors: [ERRORS, { transport: 'http', field: 'me' }],
        other: [ERRORS, { transport: 'http', code: 'INTERNAL_SERVER_ERROR' }],
      },
    );
    expect(moved).toEqual({ me: 1, accessLog: 1, forbidden: 1, meErrors: 0, other: 0 });
  });
});

describe('graphql-ws', () => {
  test('operations and their errors are counted with transport="ws"; a subscription refused at start is never active', async () => {
    const pro = await env.world.professional('Metrics Ws Errors');
    const client = connect(env.server.wsUrl, pro.token);
    env.clients.push(client);
    const moved = await deltas(
      async () => {
        expect((await wsErrors(client, '{ me { id ')).errors.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
        expect((await wsErrors(client, 'mutation Mine { createTeam(name: "Nope") { id } }')).errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
        const unknownThread = 'subscription($t: ID!) { messageAdded(threadId: $t) { id } }';
        expect((await wsErrors(client, unknownThread, { t: '00000000-0000-4000-8000-000000000000' })).errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      },
      {
        unparsed: [REQUESTS, { transport: 'ws', type: UNKNOWN, field: UNKNOWN }],
        parseError: [ERRORS, { transport: 'ws', type: UNKNOWN, field: UNKNOWN, code: 'GRAPHQL_PARSE_FAILED' }],
        createTeam: [REQUESTS, { transport: 'ws', type: 'mutation', field: 'createTeam' }],
        forbidden: [ERRORS, { transport: 'ws', type: 'mutation', field: 'createTeam', code: 'FORBIDDEN' }],
        subscribed: [REQUESTS, { transport: 'ws', type: 'subscription', field: 'messageAdded' }],
        notFound: [ERRORS, { transport: 'ws', type: 'subscription', field: 'messageAdded', code: 'NOT_FOUND' }],
        active: [ACTIVE, { field: 'messageAdded' }],
      },
    );
    expect(moved).toEqual({ unparsed: 1, parseError: 1, createTeam: 1, forbidden: 1, subscribed: 1, notFound: 1, active: 0 });
  });

  test('a subscription is active until the client completes it; each event it receives is a delivery; the send is timed', async () => {
    const { a, team, pat } = await env.world.careTeam('Metrics Live');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'First');
    const { client } = openClient(env.server.wsUrl, a.token);
    env.clients.push(client);
    const start = await scrape(env.server.url);

    const feed = subscribe(client, 'subscription { messageAdded { id body } }');
    await untilSubscribed(env.server, 1);
    const open = await scrape(env.server.url);
    expect(total(open, ACTIVE, { field: 'messageAdded' }) - total(start, ACTIVE, { field: 'messageAdded' })).toBe(1);

    await env.world.send(pat, threadId, 'Second');
    await feed.waitFor(1);
    const sent = await scrape(env.server.url);
    expect(total(sent, DELIVERIES, { field: 'messageAdded' }) - total(open, DELIVERIES, { field: 'messageAdded' })).toBe(1);
    expect(total(sent, `${SEND}_count`, { mutation: 'sendMessage' }) - total(open, `${SEND}_count`, { mutation: 'sendMessage' })).toBe(1);
    expect(total(sent, `${SEND}_sum`, { mutation: 'sendMessage' })).toBeGreaterThan(total(open, `${SEND}_sum`, { mutation: 'sendMessage' }));
    expectHistogram(sent, SEND, { mutation: 'sendMessage' });

    // Completed by the client, on a socket that stays open.
    await feed.close();
    await until(() => env.server.live.size === 0);
    const completed = await scrape(env.server.url);
    expect(total(completed, ACTIVE, { field: 'messageAdded' })).toBe(total(start, ACTIVE, { field: 'messageAdded' }));
    expect(total(completed, SOCKETS)).toBe(total(open, SOCKETS));
  });

  test('open websockets and a dashboard subscription go up, then down when the client disconnects', async () => {
    const { a, team, pat } = await env.world.careTeam('Metrics Dashboard');
    const start = await scrape(env.server.url);
    const { client } = openClient(env.server.wsUrl, a.token);
    env.clients.push(client);
    const feed = subscribe(client, 'subscription { threadActivity { kind threadId } }');
    await until(() => env.server.app.liveSessions.size === 1);
    await until(() => env.server.live.size > 0);
    const live = await scrape(env.server.url);
    expect(total(live, SOCKETS) - total(start, SOCKETS)).toBe(1);
    expect(total(live, ACTIVE, { field: 'threadActivity' }) - total(start, ACTIVE, { field: 'threadActivity' })).toBe(1);

    // createThread is timed too; the dashboard hears of the new thread (its first message).
    await env.world.thread(pat, [asRecipient(team)], 'Hello team');
    await feed.waitFor(1);
    const heard = await scrape(env.server.url);
    expect(total(heard, `${SEND}_count`, { mutation: 'createThread' }) - total(live, `${SEND}_count`, { mutation: 'createThread' })).toBe(1);
    expect(total(heard, DELIVERIES, { field: 'threadActivity' }) - total(live, DELIVERIES, { field: 'threadActivity' })).toBe(feed.received.length);

    await client.dispose();
    await until(() => env.server.app.liveSessions.size === 0 && env.server.live.size === 0);
    const after = await scrape(env.server.url);
    expect(total(after, SOCKETS)).toBe(total(start, SOCKETS));
    expect(total(after, ACTIVE, { field: 'threadActivity' })).toBe(total(start, ACTIVE, { field: 'threadActivity' }));
  });
});

test('every label value is one the server defines: an operation type, a root field of the schema, a known code; nothing names an organisation', async () => {
  // Activity in a second organisation: neither organisation is told apart in the metrics, which only the operator reads.
  const other = await env.world.organisation('Metrics Hospital');
  const pro = await other.world.professional('Metrics Pro');
  await other.world.thread(pro, [asRecipient(await other.world.professional('Metrics Colleague'))], 'Between two of another organisation');
  const text = (await raw(metricsUrl(env.server.url))).text;
  expect([text.includes(other.id), text.includes('Metrics Hospital')]).toEqual([false, false]);

  const schema = await getSchema();
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(isObjectType);
  const fields = new Set([...roots.flatMap((t) => Object.keys(t.getFields())), '__typename', '__schema', '__type', UNKNOWN]);
  const samples = (await scrape(env.server.url)).filter((s) => s.name.startsWith('carethread_') && !s.name.startsWith('carethread_nodejs_') && !s.name.startsWith('carethread_process_'));
  expect(samples.some((s) => s.name === REQUESTS)).toBe(true);
  for (const { name, labels } of samples) {
    const where = `${name} ${JSON.stringify(labels)}`;
    // No other label: nothing per organisation, user or thread (a new label must be added here, with its values checked).
    expect([where, Object.keys(labels).filter((key) => !LABELS.has(key))]).toEqual([where, []]);
    if ('transport' in labels) expect([where, labels.transport]).toEqual([where, expect.stringMatching(/^(http|ws)$/)]);
    if ('type' in labels) expect([where, labels.type]).toEqual([where, expect.stringMatching(/^(query|mutation|subscription|\(unknown\))$/)]);
    if ('field' in labels) expect([where, fields.has(labels.field)]).toEqual([where, true]);
    if ('code' in labels) expect([where, labels.code]).toEqual([where, expect.stringMatching(/^[A-Z_]+$/)]);
    if ('mutation' in labels) expect([where, labels.mutation]).toEqual([where, expect.stringMatching(/^(sendMessage|createThread)$/)]);
    if ('channel' in labels) expect([where, labels.channel]).toEqual([where, expect.stringMatching(/^(EMAIL|PUSH)$/)]);
  }
});

test('GET /metrics is Prometheus text, with the process figures and help that says how operations are counted', async () => {
  const res = await raw(metricsUrl(env.server.url));
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(res.text).toMatch(/^# HELP carethread_graphql_requests_total .*once for each distinct one/m);
  expect(res.text).toMatch(/^# TYPE carethread_send_duration_seconds histogram$/m);
  expect(res.text).toMatch(/^carethread_process_cpu_user_seconds_total \d/m);
  expect(res.text).toMatch(/^carethread_nodejs_eventloop_lag_seconds \d/m);
});

describe('METRICS_TOKEN', () => {
  test('when set, /metrics needs it as a bearer token (401 otherwise); GraphQL and the probes do not', async () => {
    const token = 'metrics-token-metrics-token-0123456789';
    const own = await startTestServer({ METRICS_TOKEN: token });
    try {
      const url = metricsUrl(own.url);
      const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Bearer ${token}x` }, { authorization: token }, { authorization: `Basic ${token}` }];
      for (const headers of refused) {
        const res = await raw(url, { headers });
        expect([JSON.stringify(headers), res.status]).toEqual([JSON.stringify(headers), 401]);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(res.text).not.toContain('carethread_');
      }
      const allowed = await raw(url, { headers: { authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
      expect(allowed.text).toContain('carethread_graphql_requests_total');
      expect((await raw(own.url.replace(/\/graphql$/, '/healthz'))).status).toBe(200);
      expect((await raw(own.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

/** A histogram's buckets are cumulative, end with +Inf, and +Inf holds every sample. */
function expectHistogram(samples: Sample[], name: string, labels: Record<string, string>): void {
  const buckets = samples.filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(buckets.at(-1)?.labels.le).toBe('+Inf');
  expect(buckets.at(-1)?.value).toBe(total(samples, `${name}_count`, labels));
  for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
  expect(buckets.find((b) => b.labels.le === '0.001')).toBeDefined();
}
