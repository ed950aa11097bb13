/**
 * `npm run bench`: latency figures measured side by side in one run, so the
 * ratios mean something on a noisy machine. Each pair of cases alternates
 * request by request against real servers over HTTP.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { AuditAction } from '../src/modules/audit/audit-action';
import { withOrigin } from '../src/common/request-origin';
import type { AuditEntry } from '../src/modules/audit/audit-entry';
import { verifyChain } from '../src/modules/audit/audit-verify';
import { User } from '../src/modules/users/user.entity';
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

async function start(database: Record<string, string> = { DATABASE_URL: 'sqlite::memory:' }): Promise<RunningServer> {
  const config = loadConfig({
    ...database,
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
  while (server.live.size < clients.length) await new Promise((r) => setTimeout(r, 10));
  const send = (t: string) => () => post(server.url, `mutation($t: ID!) { sendMessage(threadId: $t, body: "hello") { id } }`, { t }, token);
  const result = await sideBySide(send(toUnwatched), send(toWatched));
  report(`sendMessage (${ITERATIONS} requests each)`, ['recipient not subscribed', 'recipient on 20 subscribed sockets'], result);
  await Promise.all(clients.map((c) => c.dispose()));
  await server.close();
}

/**
 * The first page of a team inbox, for a team with 20 threads against one with
 * 2,000 (half of them waiting, a patient waiting longest first): the order
 * comes from an index, so the page should cost about the same.
 */
async function inboxBench() {
  const server = await start();
  const admin = await login(server.url, ADMIN.email, ADMIN.password);
  const user = async (email: string, kind: string) =>
    (await post(server.url, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: { email, name: email, kind, password: 'password-1234' } }, admin))
      .createUser.id as string;
  const patient = { id: await user('patient@bench.example', 'PATIENT'), token: '' };
  patient.token = await login(server.url, 'patient@bench.example', 'password-1234');
  const members = [await user('a@bench.example', 'PROFESSIONAL'), await user('b@bench.example', 'PROFESSIONAL')];
  const memberToken = await login(server.url, 'a@bench.example', 'password-1234');
  const team = async (name: string, threads: number) => {
    const { createTeam } = await post(server.url, `mutation($n: String!) { createTeam(name: $n, autoCc: true) { id } }`, { n: name }, admin);
    for (const id of members) await post(server.url, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: createTeam.id, u: id }, admin);
    await post(server.url, `mutation($p: ID!, $t: ID!) { shareRecord(patientId: $p, recipient: { teamId: $t }) }`, { p: patient.id, t: createTeam.id }, patient.token);
    for (let i = 0; i < threads; i++) {
      const { createThread } = await post(
        server.url,
        `mutation($t: ID!) { createThread(subject: "Question", body: "Is this normal?", recipients: [{ teamId: $t }]) { id } }`,
        { t: createTeam.id },
        patient.token,
      );
      if (i % 2) await post(server.url, `mutation($t: ID!) { sendMessage(threadId: $t, body: "Yes") { id } }`, { t: createThread.id }, memberToken);
    }
    return createTeam.id as string;
  };
  const [small, large] = [await team('Small', 20), await team('Large', 2_000)];
  const page = (teamId: string) => () =>
    post(server.url, `query($t: ID!) { teamInbox(teamId: $t, first: 20) { edges { node { waitingSince assignee { name } thread { subject } } } } }`, { t: teamId }, memberToken);
  report(`teamInbox first page of 20 (${ITERATIONS} requests each)`, ['team with 20 threads', 'team with 2,000 threads'], await sideBySide(page(small), page(large)));
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

const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 100_000);
const AUDIT_BATCH = 1_000;

/**
 * How long `npm run audit:verify` takes on AUDIT_EVENTS events: written through
 * AuditService.record (so chained and shaped like the server's), 1,000 per
 * transaction, into a SQLite file (or BENCH_AUDIT_DATABASE_URL=postgres://...,
 * in a schema dropped after). A clinic of 40 professionals and 20 patients in
 * 20 threads; the events are mostly reads, sends and live deliveries, as in use.
 */
async function auditVerifyBench() {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-bench-'));
  const pgUrl = process.env.BENCH_AUDIT_DATABASE_URL;
  const schema = pgUrl ? `bench_audit_${randomBytes(4).toString('hex')}` : null;
  const file = join(dir, 'audit.sqlite');
  const server = await start(pgUrl ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema! } : { DATABASE_URL: `sqlite:${file}` });
  try {
    const url = server.url;
    const admin = await login(url, ADMIN.email, ADMIN.password);
    const person = async (i: number, kind: 'PROFESSIONAL' | 'PATIENT') => {
      const email = `${kind.toLowerCase()}${i}@audit.bench.example`;
      const input = { email, name: `${kind} ${i}`, kind, password: 'password-1234' };
      const { createUser } = await post(url, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: input }, admin);
      return { id: createUser.id as string, token: kind === 'PATIENT' ? await login(url, email, 'password-1234') : '' };
    };
    const pros = [];
    for (let i = 0; i < 40; i++) pros.push(await person(i, 'PROFESSIONAL'));
    const { createTeam } = await post(url, `mutation { createTeam(name: "Audit bench", autoCc: true) { id } }`, {}, admin);
    for (const pro of pros.slice(0, 5)) {
      await post(url, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: createTeam.id, u: pro.id }, admin);
    }
    const threads: string[] = [];
    for (let i = 0; i < 20; i++) {
      const pat = await person(i, 'PATIENT');
      await post(url, `mutation($p: ID!, $t: ID!) { shareRecord(patientId: $p, recipient: { teamId: $t }) }`, { p: pat.id, t: createTeam.id }, pat.token);
      const { createThread } = await post(
        url,
        `mutation($t: ID!) { createThread(subject: "Readings", body: "This week", recipients: [{ teamId: $t }]) { id } }`,
        { t: createTeam.id },
        pat.token,
      );
      threads.push(createThread.id);
    }
    const users = await server.app.db.manager.find(User);
    const staff = users.filter((u) => u.kind === 'PROFESSIONAL').slice(0, 6);
    const patients = users.filter((u) => u.kind === 'PATIENT');
    const entry = (n: number): AuditEntry => {
      const t = n % threads.length;
      const [threadId, patient, pro] = [threads[t], patients[t], staff[n % staff.length]];
      switch (n % 8) {
        case 0:
          return { actor: n % 16 ? pro : patient, action: AuditAction.MessageSent, threadId, messageId: randomUUID() };
        case 1:
          return { actor: pro, action: AuditAction.MessageDelivered, threadId, messageId: randomUUID(), recipientIds: [patient.id, ...staff.slice(0, 4).map((u) => u.id)] };
        case 2:
          return { actor: patient, action: AuditAction.ThreadRead, threadId };
        case 3:
          return { actor: pro, action: AuditAction.ThreadMarkedRead, threadId };
        case 4:
          return { actor: staff[(n + 1) % staff.length], action: AuditAction.ThreadRead, threadId, ...(n % 40 === 4 ? { denied: 'NOT_FOUND: Thread not found' } : {}) };
        default:
          return { actor: pro, action: AuditAction.ThreadRead, threadId };
      }
    };
    const before = (await verifyChain(server.app.db)).events;
    const t0 = performance.now();
    for (let n = 0; n < AUDIT_EVENTS; n += AUDIT_BATCH) {
      const batch = Array.from({ length: Math.min(AUDIT_BATCH, AUDIT_EVENTS - n) }, (_, k) => entry(n + k));
      const origin = { requestId: randomUUID(), ip: `10.0.${(n / AUDIT_BATCH) % 256}.7`, userAgent: 'Mozilla/5.0 (CareThread bench)' };
      await withOrigin(origin, () => server.app.uow.run((tx) => tx.audit(...batch)));
    }
    const written = performance.now() - t0;

    const t1 = performance.now();
    const report = await verifyChain(server.app.db);
    const verified = performance.now() - t1;
    if (report.broken || report.events !== before + AUDIT_EVENTS) throw new Error(`unexpected report ${JSON.stringify(report)}`);
    const where = pgUrl ? 'PostgreSQL' : `SQLite file, ${(statSync(file).size / 1e6).toFixed(0)} MB`;
    console.log(
      `audit chain verification (${report.events.toLocaleString('en')} events, ${where})\n` +
        `  verifyChain: ${(verified / 1000).toFixed(2)} s, ${Math.round(report.events / (verified / 1000)).toLocaleString('en')} events/s\n` +
        `  writing them through AuditService.record, ${AUDIT_BATCH} per transaction: ${(written / 1000).toFixed(2)} s\n`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    if (schema) {
      const client = new Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}

/** BENCH_ONLY=audit (or recipients, send, inbox) runs one case. */
const CASES: Record<string, () => Promise<void>> = { recipients: recipientsBench, send: sendBench, inbox: inboxBench, audit: auditVerifyBench };

(async () => {
  const only = process.env.BENCH_ONLY;
  if (only && !CASES[only]) throw new Error(`BENCH_ONLY must be one of ${Object.keys(CASES).join(', ')}`);
  for (const [name, run] of Object.entries(CASES)) if (!only || only === name) await run();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
