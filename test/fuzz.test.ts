import http from 'node:http';
import { Writable } from 'node:stream';
import { format } from 'node:util';
import fc from 'fast-check';
import type { GraphQLSchema } from 'graphql';
import { SignJWT } from 'jose';
import pino from 'pino';
import { getSchema } from '../src/schema';
import {
  anyJson,
  anyName,
  anyString,
  authorization,
  draw,
  generateOperation,
  headerValue,
  hostProcess,
  leaks,
  RawSocket,
  type Draw,
  type Frame,
  type GeneratedOperation,
  type Pools,
  wellFormed,
} from './support/fuzz';
import { gql } from './support/graphql';
import { connect, subscribe, until, untilSubscribed } from './support/live';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { PASSWORD, signIn, World, type Person } from './support/world';

/**
 * Fuzzing (fast-check): random and malformed operations, variables, JSON bodies, GET
 * query strings and graphql-ws frames against one real server with a small world.
 *
 *   FUZZ_RUNS  cases in all, shared among the properties below (default 10 000)
 *   FUZZ_SEED  the seed (default fixed, so CI runs the same cases every time)
 *   FUZZ_SHRINK=1  shrink a failing case (off by default: each failure already shows its request)
 *
 * What every HTTP answer must be:
 *   - it arrives, with a status below 500;
 *   - a GET of /graphql that asks for HTML (Accept text/html) is GraphiQL's page, 200
 *     text/html; no other request gets it;
 *   - otherwise under /graphql it is JSON (application/json or application/graphql-response+json),
 *     an object with `data` and/or `errors`; a status of 400 or more comes with errors;
 *     the one exception is a request whose request line and headers are over Node's
 *     16 KB limit, which Node answers itself with a bare 431;
 *   - outside /graphql: GET /healthz is {"status":"ok"}; any other path is Express's
 *     plain "Cannot <METHOD> <path>" 404 page;
 *   - a POST whose content type is not application/json is refused with a 4xx whose
 *     every error is BAD_REQUEST (415 from graphql-http, or a body express.json refused);
 *   - every error has a message and an extensions.code, and that code is never
 *     INTERNAL_SERVER_ERROR (client input must never reach an unexpected failure);
 *   - nothing in it looks like a stack trace, a source path or an exception dump,
 *     unless it only echoes what the client sent.
 * What every graphql-ws socket must see:
 *   - only graphql-ws messages (JSON objects of a known type), coded errors as above,
 *     nothing leaked in messages or in the close reason;
 *   - the server answers a ping after the fuzzed frames, or has closed the socket with a
 *     protocol close code: 1007 (invalid UTF-8), 1009 (too big), 1008, 1002, 44xx; never
 *     1011 or 4500 (internal error), never an abnormal close;
 *   - once its socket is closed, none of its subscriptions and live sessions is left.
 * And on the server side, during the whole file: nothing logged at level error (an
 * unexpected failure), no graphql-ws "internal error" report, no unhandled rejection and
 * no uncaught exception in the process; afterwards /healthz, a query and a live
 * subscription still work.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_124);
const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
if (!Number.isInteger(SEED) || !Number.isInteger(TOTAL_RUNS) || TOTAL_RUNS < 1) throw new Error('FUZZ_SEED and FUZZ_RUNS must be integers, FUZZ_RUNS at least 1');
const SHARES = { 'http bodies': 0.25, 'http operations': 0.45, 'http GET': 0.1, 'graphql-ws frames': 0.2 } as const;
type PropertyName = keyof typeof SHARES;
const runsOf = (name: PropertyName) => Math.ceil(TOTAL_RUNS * SHARES[name]);
/** Generous: the default run takes about a minute in all. */
const PROPERTY_TIMEOUT = Math.max(180_000, TOTAL_RUNS * 40);

const ALLOWED_CLOSE_CODES = new Set([1000, 1002, 1007, 1008, 1009]);
const allowedClose = (code: number) => ALLOWED_CLOSE_CODES.has(code) || (code >= 4400 && code < 4500);
const WS_MESSAGE_TYPES = new Set(['connection_ack', 'next', 'error', 'complete', 'ping', 'pong']);
const INTERNAL = 'INTERNAL_SERVER_ERROR';

// ---------------------------------------------------------------------------------------------
// Figures

const figures = {
  cases: {} as Record<string, number>,
  status5xx: 0,
  /** Answers with INTERNAL_SERVER_ERROR (errors the server logged are counted by serverErrors). */
  internalErrors: 0,
  /** Sockets closed with 1011/4500, requests without an answer, console.error reports of an unexpected failure. */
  crashes: 0,
  stackTraces: 0,
  uncodedErrors: 0,
  otherViolations: 0,
  unhandledRejections: 0,
  uncaughtExceptions: 0,
  /** Closes by the server, by code (e.g. 4400, 1009). */
  closeCodes: {} as Record<number, number>,
  statuses: {} as Record<number, number>,
  wsProtocolErrors: 0,
  /** How deep the cases got: HTTP requests that executed (an answer with `data`), sockets acknowledged, operations answered with `next`. */
  executed: 0,
  wsAcknowledged: 0,
  wsNext: 0,
};
let elapsedMs = 0;

type Counted = 'status5xx' | 'internalErrors' | 'crashes' | 'stackTraces' | 'uncodedErrors' | 'otherViolations';

/** The problems found in one case; the case fails when there is any. `kind`: the figure it counts in (null: counted elsewhere). */
class Problems {
  readonly list: string[] = [];
  add(kind: Counted | null, message: string): void {
    if (kind) figures[kind]++;
    this.list.push(message);
  }
}

// ---------------------------------------------------------------------------------------------
// What the server itself reports: its logger, graphql-ws's console.error, the process

const serverErrors: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { level: number };
      if (entry.level >= 50) serverErrors.push(line);
    }
    done();
  },
});

/**
 * graphql-ws reports an unexpected failure with console.error (graphql-ws's report of
 * a `ws` protocol error, a frame too big or invalid UTF-8, is the client's fault, not a crash).
 */
const consoleCrashes: string[] = [];
function onConsoleError(...args: unknown[]): void {
  const [message, error] = args;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof message === 'string' && message.startsWith('Internal error emitted on a WebSocket socket') && typeof code === 'string' && code.startsWith('WS_ERR_')) {
    figures.wsProtocolErrors++;
    return;
  }
  consoleCrashes.push(format(...args));
}

const realProcess = hostProcess();
const processFailures: string[] = [];
const onUnhandledRejection = (reason: unknown) => {
  figures.unhandledRejections++;
  processFailures.push(`unhandled rejection: ${format(reason)}`);
};
const onUncaughtException = (error: unknown) => {
  figures.uncaughtExceptions++;
  processFailures.push(`uncaught exception: ${format(error)}`);
};

// ---------------------------------------------------------------------------------------------
// The world

let server: TestServer;
let world: World;
let schema: GraphQLSchema;
let pools: Pools;
let fuzzed: Person[];
let worldThread: string;
/** Kept out of the fuzz (their ids and tokens are in no pool): they check that the server still works afterwards. */
let watcher: Person;
let peer: Person;
let watchedThread: string;
let base: string;

beforeAll(async () => {
  realProcess.on('unhandledRejection', onUnhandledRejection);
  realProcess.on('uncaughtException', onUncaughtException);
  jest.spyOn(console, 'error').mockImplementation(onConsoleError);

  // Fuzzed sign-ins and password changes fail by the thousand: no lockout, so that restoreSessions can sign in.
  const noLockout = { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000', LOGIN_MAX_FAILURES_PER_IP: '1000000' };
  server = await startTestServer(noLockout, { logger: pino({ level: 'warn' }, logStream) });
  base = server.url.replace(/\/graphql$/, '');
  world = await World.create(server);
  schema = await getSchema();
  const pro = await world.professional('Fuzz Pro');
  const colleague = await world.professional('Fuzz Colleague');
  const pat = await world.patient('Fuzz Pat');
  const team = await world.team('Fuzz Team', { autoCc: true, members: [pro, colleague] });
  await world.share(pat, team);
  const thread = await world.thread(pro, [{ teamId: team.id }, { userId: pat.id }], 'Fuzz', 'Fuzz thread');
  const message = await world.send(pro, thread, 'A message to find');
  fuzzed = [pro, colleague, pat];
  worldThread = thread;

  watcher = await world.professional('Fuzz Watcher');
  peer = await world.professional('Fuzz Peer');
  watchedThread = await world.thread(watcher, [{ userId: peer.id }]);

  pools = {
    ids: [pro.id, colleague.id, pat.id, world.admin.id, team.id, thread, message],
    tokens: [pro.token, colleague.token, pat.token, world.admin.token],
    forgedTokens: await forgedTokens(server.app.config.jwtSecret, pro.id),
  };
}, 60_000);

afterAll(async () => {
  realProcess.off('unhandledRejection', onUnhandledRejection);
  realProcess.off('uncaughtException', onUncaughtException);
  jest.restoreAllMocks();
  agent.destroy();
  await server?.close();
  const total = Object.values(figures.cases).reduce((a, b) => a + b, 0);
  const lines = [
    `fuzz: seed ${SEED} (FUZZ_SEED), FUZZ_RUNS ${TOTAL_RUNS}`,
    ...Object.entries(figures.cases).map(([name, n]) => `  ${name.padEnd(18)} ${String(n).padStart(7)} cases`),
    `  ${'total'.padEnd(18)} ${String(total).padStart(7)} cases in ${(elapsedMs / 1000).toFixed(1)} s`,
    `  5xx ${figures.status5xx}, crashes ${figures.crashes + figures.uncaughtExceptions}, stack traces ${figures.stackTraces}, ` +
      `unhandled rejections ${figures.unhandledRejections}, uncaught exceptions ${figures.uncaughtExceptions}`,
    `  INTERNAL_SERVER_ERROR answers ${figures.internalErrors}, errors logged by the server ${serverErrors.length}, ` +
      `errors without a code ${figures.uncodedErrors}, other violations ${figures.otherViolations}`,
    `  HTTP statuses ${JSON.stringify(figures.statuses)}; executed (answered with data) ${figures.executed}`,
    `  sockets acknowledged ${figures.wsAcknowledged}, with a next message ${figures.wsNext}`,
    `  closes by the server ${JSON.stringify(figures.closeCodes)}; ws protocol errors reported on the console ${figures.wsProtocolErrors}`,
  ];
  console.log(lines.join('\n'));
});

/** Tokens signed with the server's own key (or not) that must all be refused: unknown subject, expired, wrong issuer or audience, alg none, wrong key. */
async function forgedTokens(secret: Uint8Array, userId: string): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: { sub?: string; iss?: string; aud?: string; exp?: number }, key = secret) => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now - 10);
    if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    jwt.setIssuer(claims.iss ?? 'carethread').setAudience(claims.aud ?? 'carethread-api');
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(key);
  };
  const later = now + 3600;
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    await sign({ sub: '2b0a5f3e-9a57-4a8e-8f43-4f4ad3b3c001', exp: later }), // nobody
    await sign({ sub: 'not-a-user', exp: later }),
    await sign({ sub: 'x'.repeat(300), exp: later }),
    await sign({ sub: userId }), // no expiry
    await sign({ sub: userId, exp: now - 60 }), // expired
    await sign({ sub: userId, exp: later, iss: 'someone-else' }),
    await sign({ sub: userId, exp: later, aud: 'another-api' }),
    await sign({ sub: userId, exp: later }, new TextEncoder().encode('another-secret-another-secret-0123456')),
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: userId, iss: 'carethread', aud: 'carethread-api', exp: later })}.`,
    `${b64({ alg: 'HS256' })}.${b64('not an object')}.c2ln`,
  ];
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface HttpCase {
  method: string;
  /** Path and query string, e.g. /graphql?query=... */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

type HttpAnswer = { status: number; contentType: string; text: string } | { error: string };

/** node:http with keep-alive: a few times cheaper per request than fetch, and it sends any header value Node accepts. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(c: HttpCase): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(c.body) : Buffer.from(c.body);
    let answered = false;
    const done = (answer: HttpAnswer) => {
      if (!answered) resolve(answer);
      answered = true;
    };
    try {
      const request = http.request(
        base + c.path,
        { method: c.method, agent, timeout: 15_000, headers: { ...c.headers, ...(body ? { 'content-length': String(body.length) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (error) => done({ error: String(error) }));
        },
      );
      // A server that answers early (413, 431) may close the connection while the body is still being written.
      request.on('error', (error) => setTimeout(() => done({ error: String(error) }), 50));
      request.on('timeout', () => request.destroy(new Error('no answer within 15 s')));
      request.end(body);
    } catch (error) {
      done({ error: `the request could not be sent: ${String(error)}` });
    }
  });
}

const mimeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase();
/** What Node counts against its 16 KB header limit: the request line and the headers. */
const headBytes = (c: HttpCase) => c.method.length + c.path.length + 12 + Object.entries(c.headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v, 'latin1') + 4, 0);

function routeOf(path: string): 'graphql' | 'health' | 'none' {
  const pathname = path.split(/[?#]/)[0].toLowerCase();
  if (pathname === '/graphql' || pathname.startsWith('/graphql/')) return 'graphql';
  return pathname === '/healthz' ? 'health' : 'none';
}

/** Checks one HTTP answer against the rules in the header of this file. */
function checkHttp(c: HttpCase, answer: HttpAnswer, problems: Problems): void {
  if ('error' in answer) {
    problems.add('crashes', `no answer: ${answer.error}`);
    return;
  }
  figures.statuses[answer.status] = (figures.statuses[answer.status] ?? 0) + 1;
  if (answer.status >= 500) problems.add('status5xx', `status ${answer.status}`);
  const sent = `${c.path}\n${JSON.stringify(c.headers)}\n${typeof c.body === 'string' ? c.body : Buffer.from(c.body ?? []).toString('latin1')}`;
  const leaked = leaks(answer.text, sent);
  if (leaked.length) problems.add('stackTraces', `leaks: ${JSON.stringify(leaked.slice(0, 3))}`);

  if (answer.status === 431) {
    // 1 KB of slack for what the client adds (Host, Connection) and for line ends.
    if (headBytes(c) < 15 * 1024) problems.add('otherViolations', '431 for a request line and headers under 15 KB');
    if (answer.text !== '') problems.add('otherViolations', '431 with a body');
    return;
  }
  const route = routeOf(c.path);
  if (route === 'none' || (route === 'health' && c.method !== 'GET')) {
    const expected = new RegExp(`<pre>Cannot ${c.method} [^<]*</pre>`);
    if (answer.status !== 404 || !expected.test(answer.text)) problems.add('otherViolations', `expected Express's 404 page, got ${answer.status}`);
    return;
  }
  if (route === 'health') {
    if (answer.status !== 200 || answer.text !== '{"status":"ok"}') problems.add('otherViolations', `healthz answered ${answer.status}`);
    return;
  }
  if (checkGraphiql(c, answer, problems)) return;
  if (!/^application\/(graphql-response\+)?json\b/.test(answer.contentType)) problems.add('otherViolations', `content-type ${answer.contentType}`);
  let body: { data?: unknown; errors?: unknown } | null = null;
  try {
    body = JSON.parse(answer.text);
  } catch {
    problems.add('otherViolations', 'the body is not JSON');
    return;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('data' in body || 'errors' in body)) {
    problems.add('otherViolations', 'the body is not an object with data or errors');
    return;
  }
  if ('data' in body) figures.executed++;
  const errors = checkErrors(body.errors, problems);
  if (answer.status >= 400 && !errors.length) problems.add('otherViolations', `status ${answer.status} without errors`);
  if (c.method === 'POST' && mimeOf(c.headers['content-type']) !== 'application/json') {
    if (answer.status < 400 || answer.status >= 500) problems.add('otherViolations', `content-type ${JSON.stringify(c.headers['content-type'])} was not refused`);
    if (errors.some((e) => e.extensions?.code !== 'BAD_REQUEST')) problems.add('otherViolations', 'a refused content type with a code other than BAD_REQUEST');
  }
}

/** GraphiQL's page answers exactly the GETs of /graphql whose Accept names text/html (the fuzzer sends it alone); true when it answered. */
function checkGraphiql(c: HttpCase, answer: { status: number; contentType: string; text: string }, problems: Problems): boolean {
  const askedForHtml = c.method === 'GET' && c.headers.accept === 'text/html' && ['/graphql', '/graphql/'].includes(c.path.split(/[?#]/)[0].toLowerCase());
  const isPage = mimeOf(answer.contentType) === 'text/html';
  if (askedForHtml !== isPage) problems.add('otherViolations', askedForHtml ? `no GraphiQL page for a browser: ${answer.status} ${answer.contentType}` : 'an HTML page for a request that did not ask for one');
  if (isPage && (answer.status !== 200 || !answer.text.includes('<title>CareThread GraphiQL</title>'))) problems.add('otherViolations', `GraphiQL's page answered ${answer.status}`);
  return isPage;
}

interface FormattedError {
  message?: unknown;
  extensions?: { code?: unknown };
}

/** Every error has a message and a code, and the code is not INTERNAL_SERVER_ERROR. */
function checkErrors(errors: unknown, problems: Problems): FormattedError[] {
  if (errors === undefined) return [];
  if (!Array.isArray(errors) || !errors.length) {
    problems.add('otherViolations', `errors is ${JSON.stringify(errors)}`);
    return [];
  }
  for (const error of errors as FormattedError[]) {
    const code = error?.extensions?.code;
    if (typeof error?.message !== 'string' || typeof code !== 'string' || !code) problems.add('uncodedErrors', `an error without a message or a code: ${JSON.stringify(error).slice(0, 300)}`);
    else if (code === INTERNAL) problems.add('internalErrors', `${INTERNAL}: ${JSON.stringify(error).slice(0, 300)}`);
  }
  return errors as FormattedError[];
}

/** Server-side reports that came during one case. */
function serverReportsSince(mark: { errors: number; crashes: number; process: number }, problems: Problems): void {
  for (const line of serverErrors.slice(mark.errors)) problems.add(null, `the server logged an error: ${line.slice(0, 1_000)}`);
  for (const line of consoleCrashes.slice(mark.crashes)) problems.add('crashes', `console.error: ${line.slice(0, 1_000)}`);
  for (const line of processFailures.slice(mark.process)) problems.add(null, line.slice(0, 1_000));
}

const marks = () => ({ errors: serverErrors.length, crashes: consoleCrashes.length, process: processFailures.length });

function describeCase(c: HttpCase): string {
  const body = typeof c.body === 'string' ? c.body : c.body ? `<${c.body.length} bytes> ${Buffer.from(c.body.slice(0, 200)).toString('hex')}` : '';
  const cut = (s: string) => (s.length > 1_500 ? `${s.slice(0, 1_500)}... (${s.length} chars)` : s);
  return `${c.method} ${cut(c.path)}\nheaders: ${cut(JSON.stringify(c.headers))}\nbody: ${cut(body)}`;
}

async function runHttpCase(name: PropertyName, c: HttpCase): Promise<void> {
  figures.cases[name] = (figures.cases[name] ?? 0) + 1;
  const mark = marks();
  const answer = await send(c);
  const problems = new Problems();
  checkHttp(c, answer, problems);
  serverReportsSince(mark, problems);
  // Even a refused answer (a 406 for an odd Accept header) may come after the mutation ran.
  if (typeof c.body === 'string' && /setUserDisabled|signOut|changePassword/.test(c.body)) await restoreSessions();
  if (problems.list.length) {
    const got = 'error' in answer ? answer.error : `${answer.status} ${answer.contentType}\n${answer.text.slice(0, 2_000)}`;
    throw new Error(`${problems.list.join('\n')}\n--- request\n${describeCase(c)}\n--- answer\n${got}`);
  }
}

/**
 * A fuzzed request may disable one of the world's users or end sessions (a sign-out, the admin's
 * disable): enable everyone again and sign them in afresh, so that later cases still reach resolvers.
 */
async function restoreSessions(): Promise<void> {
  world.admin.token = (await signIn(server.url, ADMIN.email, ADMIN.password)).token;
  for (const person of fuzzed) {
    await world.as(world.admin, 'mutation($u: ID!) { setUserDisabled(userId: $u, disabled: false) { id } }', { u: person.id });
    person.token = (await signIn(server.url, person.email, PASSWORD)).token;
  }
  pools.tokens.splice(0, pools.tokens.length, ...fuzzed.map((person) => person.token), world.admin.token);
}

const withAuth = (headers: Record<string, string>, auth: string | undefined) => (auth === undefined ? headers : { ...headers, authorization: auth });

function acceptHeader(d: Draw): Record<string, string> {
  return d.weighted<Record<string, string>>(
    [85, () => ({})],
    [15, () => ({ accept: d.pick(['application/graphql-response+json', 'application/json', 'multipart/mixed; deferSpec=20220824', 'multipart/mixed; subscriptionSpec="1.0"', 'text/html', '*/*', 'text/event-stream', 'x/y']) })],
  );
}

async function property(name: PropertyName, index: number, body: (d: Draw) => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(fc.gen(), (g) => body(draw(g))),
      {
        numRuns: runsOf(name),
        seed: SEED + index,
        // Every failure shows its request in full, so shrinking (slow over a network) is opt-in.
        endOnFailure: !process.env.FUZZ_SHRINK,
        // fast-check's own report would list fc.gen's raw draws; the case's own description says more.
        reporter: (details) => {
          if (!details.failed) return;
          const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
          throw new Error(`${name}: case ${details.numRuns} of ${runsOf(name)} failed (the whole run replays with FUZZ_SEED=${SEED}; fast-check seed ${details.seed})\n${cause}`);
        },
      },
    );
  } finally {
    elapsedMs += Date.now() - started;
  }
}

describe('fuzzing', () => {
  test(
    'http bodies: bytes, strings, truncated JSON, JSON of the wrong shape, odd content types',
    () =>
      property('http bodies', 1, async (d) => {
        const operation = () => JSON.stringify(generateOperation(d, schema, pools));
        const body = d.weighted<string | Uint8Array>(
          [10, () => d.from(someBytes)],
          [10, () => d.from(anyString)],
          [15, () => JSON.stringify(d.from(anyJson))],
          [15, () => {
            const full = operation();
            return full.slice(0, d.int(0, full.length - 1));
          }],
          [20, () =>
            JSON.stringify(
              Object.fromEntries(
                (['query', 'variables', 'operationName', 'extensions'] as const)
                  .filter(() => d.chance(0.7))
                  .map((key) => [key, d.chance(0.5) ? (JSON.parse(operation()) as GeneratedOperation)[key] : d.from(anyJson)]),
              ),
            )],
          [5, () => `${JSON.stringify({ query: '{ __typename }' })}${d.pick(['', ' ', ',', '}', 'x', '\u0000', '{"query":"{ me { id } }"}'])}`],
          [5, () => {
            const n = d.int(1_000, 100_000);
            return d.pick([`${'['.repeat(n)}${']'.repeat(n)}`, `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`, `{"query":"{ __typename }","variables":${'['.repeat(n)}${']'.repeat(n)}}`]);
          }],
          [5, () => d.pick(['', ' ', 'null', 'true', '0', '-0', '1e999', '""', '[]', '{}', '[{}]', '[null]', '{"query":""}', '{"query":null}', '\ufeff{"query":"{ __typename }"}', '{"__proto__":{"query":"{ me { id } }"}}', '{"constructor":{"prototype":{"x":1}}}'])],
          [1, () => JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(d.int(1_048_000, 1_100_000)) } })],
        );
        const contentType = d.weighted<string | undefined>(
          [70, () => 'application/json'],
          [6, () => d.pick(['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json ; charset="UTF-8"', 'application/json; charset=latin1', 'application/json; charset=klingon', 'application/json; boundary=x'])],
          [8, () => d.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; charset=utf-8'])],
          [6, () => d.pick(['application/graphql', 'application/graphql-response+json', 'application/octet-stream', 'application/xml', 'application/json-patch+json', 'text/json'])],
          [5, () => undefined],
          [5, () => d.from(headerValue)],
        );
        const headers: Record<string, string> = { ...acceptHeader(d) };
        if (contentType !== undefined) headers['content-type'] = contentType;
        if (d.chance(0.05)) headers['content-encoding'] = d.pick(['gzip', 'deflate', 'br', 'identity', 'x-zip', 'gzip, gzip', '']);
        if (d.chance(0.05)) headers['apollo-require-preflight'] = 'true';
        const auth = d.chance(0.01) ? `Bearer ${'a'.repeat(d.int(17_000, 40_000))}` : authorization(d, pools);
        const method = d.weighted([95, () => 'POST'], [5, () => d.pick(['PUT', 'PATCH', 'DELETE', 'OPTIONS'])]);
        await runHttpCase('http bodies', { method, path: '/graphql', headers: withAuth(headers, auth), body });
      }),
    PROPERTY_TIMEOUT,
  );

  test(
    'http operations: GraphQL built from the schema with random arguments, variables, aliases, nesting, directives, fragments and tokens',
    () =>
      property('http operations', 2, async (d) => {
        const operation = generateOperation(d, schema, pools);
        const headers = withAuth({ 'content-type': 'application/json', ...acceptHeader(d) }, authorization(d, pools));
        await runHttpCase('http operations', { method: 'POST', path: '/graphql', headers, body: JSON.stringify(operation) });
      }),
    PROPERTY_TIMEOUT,
  );

  test(
    'http GET: random query strings and paths',
    () =>
      property('http GET', 3, async (d) => {
        const operation = generateOperation(d, schema, pools, ['query', 'query', 'query', 'mutation', 'subscription']);
        const jsonText = (value: unknown) =>
          d.weighted(
            [6, () => JSON.stringify(value) ?? ''],
            [2, () => {
              const text = JSON.stringify(value) ?? '{';
              return text.slice(0, d.int(0, text.length));
            }],
            [2, () => JSON.stringify(d.from(anyJson))],
            [1, () => d.from(anyString)],
          );
        const params: [string, string][] = [];
        if (d.chance(0.9)) params.push(['query', d.chance(0.85) ? operation.query : d.from(anyString)]);
        if (d.chance(0.4)) params.push(['variables', jsonText(operation.variables)]);
        if (d.chance(0.2)) params.push(['operationName', d.chance(0.5) && typeof operation.operationName === 'string' ? operation.operationName : d.from(anyString)]);
        if (d.chance(0.1)) params.push(['extensions', jsonText(operation.extensions ?? { persistedQuery: { version: 1, sha256Hash: 'abc' } })]);
        if (d.chance(0.1)) params.push([d.from(anyName), d.from(anyString)]);
        if (d.chance(0.03)) params.push(['query', '{ __typename }']);
        const encode = (s: string) => (d.chance(0.9) ? uriEncode(s).replace(/%20/g, d.pick(['%20', '+'])) : mangle(d, s));
        const query = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join(d.chance(0.97) ? '&' : d.pick([';', '&&', '&=&']));
        const path = d.weighted(
          [88, () => '/graphql'],
          [12, () => d.pick(['/graphql/', '/GRAPHQL', '/graphql/x', '/graphql/%', '/healthz', '/nope', '/graphql%ff', '/%', '/graphql;x', '/graphql/%E0%A4%A', '/.%2e/graphql'])],
        );
        const headers: Record<string, string> = { ...acceptHeader(d) };
        if (d.chance(0.75)) Object.assign(headers, d.pick([{ 'apollo-require-preflight': 'true' }, { 'x-apollo-operation-name': 'Op' }, { 'apollo-require-preflight': '' }]));
        if (d.chance(0.1)) headers['content-type'] = d.pick(['application/json', 'text/plain', 'application/graphql', '']);
        let url = `${path}${d.chance(0.97) ? '?' : ''}${query}`;
        try {
          const parsed = new URL(url, base);
          parsed.hash = ''; // a stray # starts a fragment, which is never sent
          url = parsed.href.slice(base.length);
        } catch {
          url = `${path}?${params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}`;
        }
        await runHttpCase('http GET', { method: 'GET', path: url, headers: withAuth(headers, authorization(d, pools)) });
      }),
    PROPERTY_TIMEOUT,
  );

  test(
    'graphql-ws frames: garbage, binary, invalid UTF-8, unknown types, subscribe before init, init twice, duplicate ids, oversized',
    () =>
      property('graphql-ws frames', 4, async (d) => {
        figures.cases['graphql-ws frames'] = (figures.cases['graphql-ws frames'] ?? 0) + 1;
        const mark = marks();
        const protocol = d.chance(0.96) ? 'graphql-transport-ws' : null;
        // Half the cases keep to well-formed messages, each waited for, so that they get past
        // connection_ack: subscriptions, duplicate ids, completes, a second init. The other half
        // is a burst of anything.
        const paced = d.chance(0.5);
        const steps: Step[] = [];
        if (d.chance(paced ? 0.85 : 0.5)) steps.push({ frame: text({ type: 'connection_init', payload: { authorization: `Bearer ${d.pick(fuzzed).token}` } }), awaits: 'ack' });
        const count = d.int(1, paced ? 8 : 6);
        for (let i = 0; i < count; i++) steps.push(randomStep(d, paced));
        if (paced && d.chance(0.3)) {
          const subscribes = steps.filter((s) => s.frame?.kind === 'text' && s.frame.data.includes('"type":"subscribe"'));
          if (subscribes.length) steps.push(d.pick(subscribes)); // the same id again
        }
        if (paced && d.chance(0.2)) steps.push(randomStep(d, false));
        const frames = steps.flatMap((s) => (s.frame ? [s.frame] : []));

        const socket = new RawSocket(server.wsUrl, protocol);
        const problems = new Problems();
        const opened = await socket.open;
        if (!opened) problems.add('crashes', `the handshake failed: ${JSON.stringify(socket.closed)} ${socket.errors.join('; ')}`);
        for (const { frame, awaits, action } of steps) {
          const before = socket.received.length;
          if (action) await action();
          if (!frame) continue;
          await socket.send(frame);
          if (!paced || !awaits) continue;
          const answered = (m: string) => (awaits === 'ack' ? m.includes('"connection_ack"') : m.includes(`"id":${JSON.stringify(awaits)}`));
          await socket.until(() => socket.received.slice(before).some(answered), awaits === 'ack' ? 1_000 : 10);
        }
        const probe = `probe-${figures.cases['graphql-ws frames']}`;
        if (socket.isOpen) {
          await socket.send(text({ type: 'ping', payload: { probe } }));
          const answered = await socket.until(() => socket.received.some((m) => m.includes(probe)), 3_000);
          if (!answered && !socket.closed) problems.add('crashes', 'no pong and no close within 3 s of a ping');
        }
        const byServer = socket.closed;
        const closed = byServer ?? (await socket.close());

        const sent = frames.map((f) => (f.kind === 'text' ? f.data : Buffer.from(f.data).toString('latin1'))).join('\n');
        if (!closed) problems.add('crashes', 'the close handshake did not complete within 3 s');
        else {
          if (byServer) figures.closeCodes[closed.code] = (figures.closeCodes[closed.code] ?? 0) + 1;
          if (closed.code === 1011 || closed.code === 4500) problems.add('crashes', `closed as an internal error: ${closed.code} ${closed.reason}`);
          else if (!allowedClose(closed.code)) problems.add('otherViolations', `closed with ${closed.code} ${closed.reason}`);
          if (protocol === null && closed.code !== 4406) problems.add('otherViolations', `no subprotocol, but closed with ${closed.code}`);
          const leaked = leaks(closed.reason, sent);
          if (leaked.length) problems.add('stackTraces', `close reason leaks: ${JSON.stringify(leaked)}`);
        }
        for (const error of socket.errors) problems.add('otherViolations', `client-side socket error: ${String(error)}`);
        // Once its socket is closed, nothing of it may be left on the server (cases run one at a time).
        const left = () => ({ subscriptions: server.live.size, liveSessions: server.app.liveSessions.size });
        if (!(await eventually(() => left().subscriptions === 0 && left().liveSessions === 0, 2_000))) problems.add('otherViolations', `left on the server after the close: ${JSON.stringify(left())}`);
        for (const message of socket.received) checkWsMessage(message, sent, problems);
        if (socket.received.some((m) => m.includes('"connection_ack"'))) figures.wsAcknowledged++;
        if (socket.received.some((m) => m.startsWith('{"id"') && m.includes('"type":"next"'))) figures.wsNext++;
        serverReportsSince(mark, problems);
        if (problems.list.length) {
          const shown = frames.map((f) => `${f.kind} ${f.data.length}: ${(f.kind === 'text' ? f.data : Buffer.from(f.data).toString('hex')).slice(0, 600)}`);
          throw new Error(
            `${problems.list.join('\n')}\n--- protocol ${protocol}\n--- frames\n${shown.join('\n')}\n--- received\n${socket.received.join('\n').slice(0, 3_000)}\n--- closed ${JSON.stringify(closed)}`,
          );
        }
      }),
    PROPERTY_TIMEOUT,
  );

  test('afterwards no subscription or live session is left, and the server still serves HTTP and live subscriptions', async () => {
    await until(() => server.live.size === 0 && server.app.liveSessions.size === 0, 5_000).catch(() => undefined);
    expect({ subscriptions: server.live.size, liveSessions: server.app.liveSessions.size }).toEqual({ subscriptions: 0, liveSessions: 0 });

    const health = await send({ method: 'GET', path: '/healthz', headers: {} });
    expect(health).toEqual({ status: 200, contentType: expect.stringMatching(/json/), text: '{"status":"ok"}' });
    expect((await world.as(watcher, '{ me { id } }')).me.id).toBe(watcher.id);

    const client = connect(server.wsUrl, watcher.token);
    try {
      const feed = subscribe(client, 'subscription($t: ID) { messageAdded(threadId: $t) { body } }', { t: watchedThread });
      await untilSubscribed(server, 1);
      await world.send(peer, watchedThread, 'Still alive');
      expect(await feed.waitFor(1)).toEqual([{ messageAdded: { body: 'Still alive' } }]);
      expect(feed.errors).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  test('nothing went wrong inside the server: no error logged, no graphql-ws crash, no unhandled rejection, no uncaught exception', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // late reports of the last cases
    expect(serverErrors).toEqual([]);
    expect(consoleCrashes).toEqual([]);
    expect(processFailures).toEqual([]);
    expect({ unhandledRejections: figures.unhandledRejections, uncaughtExceptions: figures.uncaughtExceptions }).toEqual({ unhandledRejections: 0, uncaughtExceptions: 0 });
    expect(Object.values(figures.cases).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(TOTAL_RUNS);
  });
});

// ---------------------------------------------------------------------------------------------
// graphql-ws frames

const someBytes = fc.uint8Array({ maxLength: 2_000 });
const fewBytes = fc.uint8Array({ maxLength: 500 });
const jsonNotAnObject = anyJson.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v));

const text = (message: unknown): Frame => ({ kind: 'text', data: JSON.stringify(message) });

/** Small, so that ids repeat: a subscribe that reuses a live id must get 4409. */
const wsId = (d: Draw): unknown => d.weighted<unknown>([70, () => d.pick(['1', '2', 'a'])], [10, () => d.from(anyString)], [20, () => d.from(anyJson)]);

function connectionPayload(d: Draw): unknown {
  return d.weighted<unknown>(
    [4, () => ({ authorization: `Bearer ${d.pick(fuzzed).token}` })],
    [4, () => ({ authorization: authorization(d, pools) })],
    [2, () => ({ authorization: d.from(anyJson) })],
    [2, () => d.from(anyJson)],
    [1, () => undefined],
  );
}

/** Whether `check` holds within `timeoutMs`, polled every millisecond (until() of live.ts polls every 10 ms, too slow for thousands of cases). */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
}

/** A frame, and what to wait for after it when pacing: the ack of a connection_init, or an answer to a subscribe's id. */
interface Step {
  frame?: Frame;
  awaits?: 'ack' | string;
  /** Something done over HTTP meanwhile, e.g. a message that live subscriptions then hear of. */
  action?: () => Promise<void>;
}

const LIVE_SUBSCRIPTIONS = [
  'subscription { threadActivity { kind threadId at message { id body author { name } readBy { id } } thread { subject unreadCount participants { user { name } } } } }',
  'subscription($t: ID) { messageAdded(threadId: $t) { id body createdAt author { id } thread { id lastMessage { id } } } }',
  'subscription { messageAdded { id threadId } }',
];

/** A random frame; `wellFormed`: only JSON messages of the protocol (in any order, with any ids). */
function randomStep(d: Draw, wellFormed: boolean): Step {
  const garbage = wellFormed ? 0 : 1;
  return d.weighted<Step>(
    [14, () => ({ frame: text({ type: 'connection_init', payload: connectionPayload(d) }), awaits: 'ack' })],
    [30, () => {
      const payload = d.weighted<unknown>(
        [85, () => generateOperation(d, schema, pools, ['subscription', 'subscription', 'subscription', 'query', 'mutation'])],
        [15, () => d.pick([undefined, null, {}, { query: 1 }, { query: '{ __typename }', variables: 'x' }, { query: '{ __typename }', operationName: 5 }, d.from(anyJson)])],
      );
      const id = wsId(d);
      return d.chance(0.95) ? { frame: text({ id, type: 'subscribe', payload }), awaits: typeof id === 'string' ? id : undefined } : { frame: text({ type: 'subscribe', payload }) };
    }],
    [8, () => {
      const id = String(d.pick(['1', '2', 'a']));
      const query = d.pick(LIVE_SUBSCRIPTIONS);
      const variables = query.includes('$t') ? { t: d.chance(0.8) ? d.pick(pools.ids) : d.from(anyString) } : undefined;
      return { frame: text({ id, type: 'subscribe', payload: { query, variables } }), awaits: id };
    }],
    [4, () => {
      // A message in the world's thread (by whoever is still in it): live subscriptions of this socket hear of it, or not.
      // Sometimes a staff-only note (FORBIDDEN for the patient), or the flag left null.
      const variables = { t: worldThread, b: d.from(anyString) || 'x', s: d.pick([false, false, true, null]) };
      const author = d.pick(fuzzed);
      const send = 'mutation($t: ID!, $b: String!, $s: Boolean) { sendMessage(threadId: $t, body: $b, staffOnly: $s) { id staffOnly } }';
      return { action: async () => void (await gql(server.url, send, variables, author.token)) };
    }],
    [10, () => ({ frame: text({ id: wsId(d), type: 'complete' }) })],
    [8, () => ({ frame: text({ type: d.pick(['ping', 'pong']), ...(d.chance(0.7) ? { payload: d.from(anyJson) } : {}) }) })],
    [6 * garbage, () => ({ frame: text({ type: d.chance(0.7) ? d.pick(['start', 'stop', 'connection_terminate', 'data', 'ka', 'next', 'error', 'connection_ack', 'PING', '', d.from(anyName)]) : d.from(anyJson), id: wsId(d), payload: d.from(anyJson) }) })],
    [8 * garbage, () => ({ frame: { kind: 'text', data: d.from(anyString) } })],
    [6 * garbage, () => ({ frame: { kind: 'text', data: JSON.stringify(d.from(jsonNotAnObject)) } })],
    [5 * garbage, () => ({ frame: { kind: 'binary', data: d.chance(0.5) ? d.from(fewBytes) : new TextEncoder().encode(JSON.stringify({ type: 'ping' })) } })],
    [3 * garbage, () => ({ frame: { kind: 'invalid-utf8', data: invalidUtf8(d) } })],
    [2 * garbage, () => ({ frame: oversized(d) })],
  );
}

function invalidUtf8(d: Draw): Uint8Array {
  const bad = d.pick([[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf]]);
  const around = new TextEncoder().encode(JSON.stringify({ type: 'ping', payload: { x: 'y' } }));
  const at = d.int(0, around.length);
  return new Uint8Array([...around.slice(0, at), ...bad, ...around.slice(at)]);
}

/** A frame over 64 KB: the server may refuse it (1009) or handle it, but must not fail. */
function oversized(d: Draw): Frame {
  const size = d.int(65_537, 300_000);
  return d.weighted<Frame>(
    [2, () => text({ id: wsId(d), type: 'subscribe', payload: { query: `subscription { threadActivity { kind } } #${'x'.repeat(size)}` } })],
    [2, () => text({ type: 'connection_init', payload: { authorization: `Bearer ${'a'.repeat(size)}` } })],
    [1, () => ({ kind: 'text', data: 'x'.repeat(size) })],
    [1, () => ({ kind: 'binary', data: new Uint8Array(size) })],
  );
}

/** One message from the server: a graphql-ws message of a known type, coded errors, nothing leaked. */
function checkWsMessage(message: string, sent: string, problems: Problems): void {
  const leaked = leaks(message, sent);
  if (leaked.length) problems.add('stackTraces', `message leaks: ${JSON.stringify(leaked.slice(0, 3))}`);
  let parsed: { type?: unknown; payload?: unknown } | null = null;
  try {
    parsed = JSON.parse(message);
  } catch {
    problems.add('otherViolations', `a message that is not JSON: ${message.slice(0, 200)}`);
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || !WS_MESSAGE_TYPES.has(String(parsed.type))) {
    problems.add('otherViolations', `not a graphql-ws message: ${message.slice(0, 200)}`);
    return;
  }
  if (parsed.type === 'error') checkErrors(parsed.payload, problems);
  if (parsed.type === 'next') checkErrors((parsed.payload as { errors?: unknown } | undefined)?.errors, problems);
}

/** Percent-encoding gone wrong: stray %, invalid escapes, raw separators. */
function mangle(d: Draw, s: string): string {
  const at = d.int(0, s.length);
  const junk = d.pick(['%', '%zz', '%E0%A4%A', '%00', '%ff', '&', '=', '#', '+', '%%', '%u0041', '%C0%AF', '?']);
  return uriEncode(s.slice(0, at)) + junk + uriEncode(s.slice(at));
}

/** encodeURIComponent, with lone surrogates (which it refuses) replaced. */
const uriEncode = (s: string) => encodeURIComponent(wellFormed(s));

