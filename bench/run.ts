/**
 * `npm run bench`: latency figures measured side by side in one run, so the
 * ratios mean something on a noisy machine. Each pair of cases alternates
 * request by request against real servers over HTTP.
 */
import 'reflect-metadata';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer } from '../src/server';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const ADMIN = { email: 'admin@bench.example', password: 'bench-password' };

async function post(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown[] };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

async function start(): Promise<RunningServer> {
  const config = loadConfig({
    DATABASE_URL: 'sqlite::memory:',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
    PASSWORD_HASH_COST: '10',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
  });
  return startServer(config, { logger: createLogger('silent') });
}

const login = async (url: string, email: string, password: string): Promise<string> =>
  (await post(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`, { e: email, p: password })).login.token;

/** A clinic with `professionals` staff (a quarter of them in two auto-CC teams) and one patient. */
async function clinic(professionals: number) {
  const server = await start();
  const admin = await login(server.url, ADMIN.email, ADMIN.password);
  const ids: string[] = [];
  for (let i = 0; i < professionals; i++) {
    const { createUser } = await post(
      server.url,
      `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`,
      { i: { email: `pro${i}@bench.example`, name: `Professional ${i}`, kind: 'PROFESSIONAL', password: 'password-1234' } },
      admin,
    );
    ids.push(createUser.id);
  }
  for (const [t, name] of ['Diabetes', 'Cardiology'].entries()) {
    const { createTeam } = await post(server.url, `mutation($n: String!) { createTeam(name: $n, autoCc: true) { id } }`, { n: name }, admin);
    for (const id of ids.filter((_, i) => i % 8 === t)) {
      await post(server.url, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: createTeam.id, u: id }, admin);
    }
  }
  return { server, token: await login(server.url, 'pro0@bench.example', 'password-1234') };
}

/** Runs `a` and `b` alternately and returns their median latencies in ms. */
async function sideBySide(a: () => Promise<unknown>, b: () => Promise<unknown>) {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < ITERATIONS; i++) {
    for (const [k, run] of [a, b].entries()) {
      const t0 = performance.now();
      await run();
      times[k].push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return times.map(median) as [number, number];
}

function report(name: string, labels: [string, string], [a, b]: [number, number]) {
  console.log(`${name}\n  ${labels[0]}: ${a.toFixed(2)} ms median\n  ${labels[1]}: ${b.toFixed(2)} ms median\n  ratio: ${(b / a).toFixed(2)}x\n`);
}

async function recipientsBench() {
  const small = await clinic(10);
  const large = await clinic(500);
  const query = `{ recipients(first: 50) { __typename } }`;
  const result = await sideBySide(
    () => post(small.server.url, query, {}, small.token),
    () => post(large.server.url, query, {}, large.token),
  );
  report(`recipients drop-down (${ITERATIONS} requests each)`, ['10 professionals', '500 professionals'], result);
  await Promise.all([small.server.close(), large.server.close()]);
}

async function sendBench() {
  const { server, token } = await clinic(30);
  const [watched, unwatched] = await individuals(server, token, 2);
  const thread = async (to: string) =>
    (
      await post(
        server.url,
        `mutation($to: ID!) { createThread(subject: "Bench", body: "first", recipients: [{ userId: $to }]) { id } }`,
        { to },
        token,
      )
    ).createThread.id as string;
  const [toWatched, toUnwatched] = [await thread(watched.id), await thread(unwatched.id)];
  const watcherToken = await login(server.url, watched.email, 'password-1234');
  const clients = Array.from({ length: 20 }, () =>
    createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${watcherToken}` } }),
  );
  for (const client of clients) {
    client.subscribe({ query: 'subscription { messageAdded { id body author { name } } }' }, { next() {}, error() {}, complete() {} });
  }
  while (server.app.events.subscriberCount() < clients.length) await new Promise((r) => setTimeout(r, 10));
  const send = (t: string) => () => post(server.url, `mutation($t: ID!) { sendMessage(threadId: $t, body: "hello") { id } }`, { t }, token);
  const result = await sideBySide(send(toUnwatched), send(toWatched));
  report(`sendMessage (${ITERATIONS} requests each)`, ['recipient not subscribed', 'recipient on 20 subscribed sockets'], result);
  await Promise.all(clients.map((c) => c.dispose()));
  await server.close();
}

/** Professionals the caller may pick one by one (not in an auto-CC team). */
async function individuals(server: RunningServer, token: string, count: number): Promise<{ id: string; email: string }[]> {
  const { recipients } = await post(server.url, `{ recipients(first: 100) { ... on UserRecipient { user { id name } } } }`, {}, token);
  return recipients
    .filter((r: { user?: unknown }) => r.user)
    .slice(0, count)
    .map((r: { user: { id: string; name: string } }) => ({ id: r.user.id, email: `pro${r.user.name.split(' ')[1]}@bench.example` }));
}

(async () => {
  await recipientsBench();
  await sendBench();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
