import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import type { Logger as QueryLogger } from 'typeorm';
import { Message } from '../src/modules/messages/message.entity';
import { gql } from './support/graphql';
import { connect, settle, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// Concurrency, end to end over real HTTP and real graphql-ws sockets: 50
// concurrent senders send 50 messages each into 10 team threads, and 5% of
// the sends are retried with the same clientMessageId (some while the first
// attempt is still in flight). Nothing may be lost or stored twice, each
// thread keeps every sender's own order, and every live subscriber receives
// exactly the stored messages of its threads, in stored order.
//
// 2,500 sends, 125 of them retried, keep 50 requests in flight throughout: 200
// each (10,000 sends) found nothing more and took four times as long in CI.
//
// SQLite runs on a real file (WAL), as in production; with TEST_DATABASE_URL
// (npm run test:pg) startTestServer gives a fresh PostgreSQL schema instead.

const THREADS = 10;
const TEAM_SIZE = 5;
const PER_SENDER = 50;
const RETRY_SHARE = 0.05;
/** Threads the overseer (one subscriber to all of their threads) is in. */
const OVERSEEN = 5;
const SEED = 20_261_124;

type RetryMode = 'concurrent' | 'after' | 'later';

interface Added {
  messageAdded: { id: string; threadId: string; body: string };
}

interface StoredMessage {
  id: string;
  body: string;
  createdAt: string;
  author: { id: string };
}

interface Sender {
  person: Person;
  threadId: string;
  /** Index among all senders, for the seeded retry choice. */
  index: number;
}

interface Listener {
  label: string;
  threadIds: string[];
  feed: Feed<Added>;
  client: Client;
}

/** mulberry32: a small seeded generator, so the retried sends are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exactly RETRY_SHARE of all sends, by a seeded shuffle; a third of each kind of retry. */
function chooseRetries(total: number): Map<number, RetryMode> {
  const random = seeded(SEED);
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const modes: RetryMode[] = ['concurrent', 'after', 'later'];
  return new Map(order.slice(0, Math.round(total * RETRY_SHARE)).map((send, k) => [send, modes[k % modes.length]]));
}

const PAGE = `query($t: ID!, $after: String) {
  thread(id: $t) { messages(first: 100, after: $after) { edges { node { id body createdAt author { id } } } pageInfo { hasNextPage endCursor } } }
}`;

/**
 * Shows which paths the run went through, from the SQL the server ran: retries that
 * raced each other to the clientMessageId constraint, and live feeds that filled a
 * gap in a thread's sequence from the database.
 */
class PathProbe implements QueryLogger {
  clientIdRaces = 0;
  gapFills = 0;
  otherQueryErrors: string[] = [];

  logQuery(query: string): void {
    if (query.includes('BETWEEN') && query.includes('messages')) this.gapFills++;
  }

  logQueryError(error: string | Error, query: string): void {
    const text = String(error);
    if (/UQ_messages_client_id|UNIQUE constraint failed: messages\.threadId, messages\.authorId, messages\.clientMessageId/.test(text)) this.clientIdRaces++;
    else this.otherQueryErrors.push(`${text} in ${query.slice(0, 200)}`);
  }

  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const probe = new PathProbe();
const dir = TEST_POSTGRES_URL ? null : mkdtempSync(join(tmpdir(), 'carethread-concurrency-'));
let server: TestServer;
const clients: Client[] = [];

beforeAll(async () => {
  // An explicit DATABASE_URL would keep startTestServer off PostgreSQL, so it is given only for SQLite.
  server = await startTestServer(dir ? { DATABASE_URL: `sqlite:${join(dir, 'carethread.sqlite')}` } : {}, { queryLogger: probe });
}, 60_000);

afterAll(async () => {
  try {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await server?.close();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test(`${THREADS * TEAM_SIZE} concurrent senders x ${PER_SENDER} messages into ${THREADS} team threads, ${RETRY_SHARE * 100}% retried: nothing lost or doubled, order kept, every subscriber gets the stored set`, async () => {
  const database = TEST_POSTGRES_URL ? 'PostgreSQL' : 'SQLite file';
  expect(server.app.db.options.type).toBe(TEST_POSTGRES_URL ? 'postgres' : 'better-sqlite3');
  const t0 = performance.now();

  // --- Fixtures, through the API: 10 auto-CC teams of 5, each with a patient who opens a thread to the team.
  const world = await World.create(server);
  const overseer = await world.professional('Overseer');
  const teams = await Promise.all(
    Array.from({ length: THREADS }, async (_, t) => {
      const members: Person[] = [];
      for (let k = 0; k < TEAM_SIZE; k++) members.push(await world.professional(`T${t} Pro${k}`));
      const team = await world.team(`Team ${t}`, { autoCc: true, members });
      const pat = await world.patient(`T${t} Pat`);
      await world.share(pat, team);
      const recipients = [asRecipient(team)];
      if (t < OVERSEEN) {
        await world.share(pat, overseer);
        recipients.push(asRecipient(overseer));
      }
      const threadId = await world.thread(pat, recipients, `T${t} opening`, `Thread ${t}`);
      return { members, pat, threadId };
    }),
  );
  const senders: Sender[] = teams.flatMap(({ members, threadId }, t) => members.map((person, k) => ({ person, threadId, index: t * TEAM_SIZE + k })));
  const threadIds = teams.map((t) => t.threadId);

  // --- Live subscribers, each on its own socket, for the whole run: per thread the patient (that thread only)
  // and a team member (all their threads), and the overseer on all of theirs.
  const listeners: Listener[] = [];
  const listen = (label: string, person: Person, threads: string[], threadId?: string) => {
    const client = connect(server.wsUrl, person.token);
    clients.push(client);
    const feed = subscribe<Added>(client, 'subscription($t: ID) { messageAdded(threadId: $t) { id threadId body } }', threadId ? { t: threadId } : {});
    listeners.push({ label, threadIds: threads, feed, client });
  };
  teams.forEach(({ pat, members, threadId }, t) => {
    listen(`T${t} Pat (thread ${t})`, pat, [threadId], threadId);
    listen(`T${t} Pro0 (all)`, members[0], [threadId]);
  });
  listen('Overseer (all)', overseer, threadIds.slice(0, OVERSEEN));
  await untilSubscribed(server, listeners.length);
  const t1 = performance.now();

  // --- The run: every sender sends its messages one after another, all senders at once.
  const total = senders.length * PER_SENDER;
  const retries = chooseRetries(total);
  /** The acknowledged id of each clientMessageId. */
  const acked = new Map<string, string>();
  /** Each sender's acknowledged ids, in send order. */
  const sentBy = new Map<string, string[]>();
  const errors: string[] = [];
  const retryMismatches: string[] = [];
  let requests = 0;
  let inFlight = 0;
  let peakInFlight = 0;

  async function send(sender: Sender, clientMessageId: string): Promise<string | null> {
    requests++;
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    try {
      const result = await gql(server.url, SendMessageDocument, { threadId: sender.threadId, body: clientMessageId, clientMessageId }, sender.person.token);
      if (result.errors?.length || !result.data?.sendMessage?.id) {
        errors.push(`${clientMessageId}: HTTP ${result.status} ${JSON.stringify(result.errors)}`);
        return null;
      }
      return result.data.sendMessage.id;
    } catch (error) {
      errors.push(`${clientMessageId}: ${String(error)}`);
      return null;
    } finally {
      inFlight--;
    }
  }

  const retry = async (sender: Sender, clientMessageId: string, mode: RetryMode, pending?: Promise<string | null>) => {
    const [first, again] = await Promise.all([pending ?? Promise.resolve(acked.get(clientMessageId) ?? null), send(sender, clientMessageId)]);
    if (first && again && first !== again) retryMismatches.push(`${clientMessageId} (${mode}): ${first} then ${again}`);
    return first;
  };

  async function run(sender: Sender) {
    const ids: string[] = [];
    sentBy.set(sender.person.id, ids);
    let later: string | null = null;
    for (let i = 0; i < PER_SENDER; i++) {
      const clientMessageId = `s${sender.index}-m${i}`;
      const mode = retries.get(sender.index * PER_SENDER + i);
      const first = send(sender, clientMessageId);
      // A concurrent retry goes out while the first attempt is in flight.
      const id = mode === 'concurrent' ? await retry(sender, clientMessageId, mode, first) : await first;
      if (id) {
        acked.set(clientMessageId, id);
        ids.push(id);
      }
      if (mode === 'after') await retry(sender, clientMessageId, mode);
      // A late retry of the previous send (as after a lost response), once this one is done.
      if (later) await retry(sender, later, 'later');
      later = mode === 'later' ? clientMessageId : null;
    }
    if (later) await retry(sender, later, 'later');
  }

  await Promise.all(senders.map(run));
  const t2 = performance.now();

  // --- What is stored, read back through the API (oldest first), and the clientMessageIds from the database.
  const stored = new Map<string, StoredMessage[]>();
  for (const { pat, threadId } of teams) {
    const messages: StoredMessage[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { data?: any; errors?: unknown } = await gql(server.url, PAGE, { t: threadId, after }, pat.token);
      if (!page.data?.thread) throw new Error(`reading thread ${threadId}: ${JSON.stringify(page.errors)}`);
      const { edges, pageInfo } = page.data.thread.messages;
      messages.push(...edges.map((e: { node: StoredMessage }) => e.node));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    stored.set(threadId, messages);
  }
  const rows = await server.app.db.getRepository(Message).find({ select: { id: true, threadId: true, authorId: true, clientMessageId: true, seq: true } });

  // --- Live delivery: wait until each subscriber has as many messages as were stored after it subscribed, then settle.
  // The opening message of each thread was stored before anyone subscribed.
  const expectedLive = (threadId: string) => stored.get(threadId)!.slice(1).map((m) => m.id);
  const expectedCount = (l: Listener) => l.threadIds.reduce((n, t) => n + expectedLive(t).length, 0);
  await until(() => listeners.every((l) => l.feed.received.length >= expectedCount(l) || l.feed.errors.length > 0), 30_000).catch(() => undefined);
  await Promise.all(listeners.map((l) => settle(l.client)));
  const t3 = performance.now();

  // --- The figures.
  const storedSent = [...stored.values()].flatMap((messages) => messages.slice(1));
  const storedIds = new Set(storedSent.map((m) => m.id));
  const lost = [...acked.entries()].filter(([, id]) => !storedIds.has(id)).map(([cmid]) => cmid);
  const unacknowledged = storedSent.filter((m) => acked.get(m.body) !== m.id).map((m) => m.body);
  const bodies = new Map<string, number>();
  for (const m of storedSent) bodies.set(m.body, (bodies.get(m.body) ?? 0) + 1);
  const duplicateBodies = [...bodies.entries()].filter(([, n]) => n > 1).map(([body, n]) => `${body} x${n}`);
  const keys = new Map<string, number>();
  for (const r of rows) {
    if (r.clientMessageId === null) continue;
    const key = `${r.threadId}/${r.authorId}/${r.clientMessageId}`;
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }
  const duplicateKeys = [...keys.values()].filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0);

  let orderViolations = 0;
  let authorMismatches = 0;
  let seqProblems = 0;
  // Each message's time is taken once its thread is locked: later seq, never an earlier time.
  let createdAtInversions = 0;
  let largestInversionMs = 0;
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
  for (const [threadId, messages] of stored) {
    // The API's order is the thread's gap-free sequence.
    messages.forEach((m, i) => seqOf.get(m.id) !== i + 1 && seqProblems++);
    if (rows.filter((r) => r.threadId === threadId).length !== messages.length) seqProblems++;
    messages.forEach((m, i) => {
      const backwards = i > 0 ? Date.parse(messages[i - 1].createdAt) - Date.parse(m.createdAt) : 0;
      if (backwards > 0) createdAtInversions++;
      largestInversionMs = Math.max(largestInversionMs, backwards);
    });
    // Each sender waited for each acknowledgement before the next send: the thread must list their messages in that order.
    const position = new Map(messages.map((m, i) => [m.id, i]));
    for (const sender of senders.filter((s) => s.threadId === threadId)) {
      const positions = sentBy.get(sender.person.id)!.map((id) => position.get(id) ?? -1);
      positions.forEach((p, i) => i > 0 && p <= positions[i - 1] && orderViolations++);
      // ...and under their name.
      const authored = messages.filter((m) => m.author.id === sender.person.id).map((m) => m.id);
      if (JSON.stringify(authored) !== JSON.stringify(sentBy.get(sender.person.id))) authorMismatches++;
    }
  }

  const subscribers = listeners.map((l) => {
    const received = l.feed.received.map((r) => r.messageAdded);
    const expected = new Set(l.threadIds.flatMap(expectedLive));
    const ids = received.map((m) => m.id);
    const unique = new Set(ids);
    const perThread = l.threadIds.map((t) => {
      const got = received.filter((m) => m.threadId === t).map((m) => m.id);
      return JSON.stringify(got) === JSON.stringify(expectedLive(t));
    });
    return {
      label: l.label,
      received: ids.length,
      expected: expected.size,
      missing: [...expected].filter((id) => !unique.has(id)).length,
      extra: [...unique].filter((id) => !expected.has(id)).length,
      duplicates: ids.length - unique.size,
      threadsOutOfOrder: perThread.filter((inOrder) => !inOrder).length,
      errors: l.feed.errors.length,
    };
  });
  const mismatched = subscribers.filter((s) => s.missing || s.extra || s.duplicates || s.threadsOutOfOrder || s.errors);

  const runSeconds = (t2 - t1) / 1000;
  const figures = {
    database,
    senders: senders.length,
    threads: THREADS,
    sends: total,
    retries: retries.size,
    retriesByMode: Object.fromEntries((['concurrent', 'after', 'later'] as const).map((m) => [m, [...retries.values()].filter((v) => v === m).length])),
    requests,
    peakInFlight,
    acknowledged: acked.size,
    stored: storedSent.length,
    lost: lost.length,
    /** Stored copies beyond one per clientMessageId (by body, which is the clientMessageId, and by the stored key). */
    duplicates: Math.max(storedSent.length - bodies.size, duplicateKeys),
    retriesAnsweredWithAnotherId: retryMismatches.length,
    orderViolations,
    authorMismatches,
    seqProblems,
    createdAtInversions,
    largestInversionMs,
    errors: errors.length,
    queryErrors: probe.otherQueryErrors.length,
    retriesRacingToConstraint: probe.clientIdRaces,
    liveGapFills: probe.gapFills,
    subscribers: listeners.length,
    subscriberMismatches: mismatched.length,
    liveReceived: subscribers.reduce((n, s) => n + s.received, 0),
    elapsedSeconds: {
      setup: +((t1 - t0) / 1000).toFixed(1),
      sends: +runSeconds.toFixed(1),
      readBackAndSettle: +((t3 - t2) / 1000).toFixed(1),
    },
    sendsPerSecond: Math.round(total / runSeconds),
    requestsPerSecond: Math.round(requests / runSeconds),
  };
  console.log(`concurrency figures (${database}):\n${JSON.stringify(figures, null, 2)}\nper subscriber:\n${subscribers.map((s) => JSON.stringify(s)).join('\n')}`);

  // One comparison, so a failure shows every figure that is off, with a few examples of each.
  const sample = (items: string[]) => items.slice(0, 5);
  expect({
    acknowledged: figures.acknowledged,
    stored: figures.stored,
    lost: figures.lost,
    duplicates: figures.duplicates,
    retriesAnsweredWithAnotherId: figures.retriesAnsweredWithAnotherId,
    orderViolations,
    authorMismatches,
    seqProblems,
    createdAtInversions,
    errors: figures.errors,
    queryErrors: figures.queryErrors,
    subscriberMismatches: mismatched,
    // What the subscribers are compared with leaves out each thread's first message, stored before they subscribed.
    openings: teams.map(({ threadId }) => stored.get(threadId)![0]?.body),
    examples: {
      lost: sample(lost),
      duplicated: sample(duplicateBodies),
      unacknowledged: sample(unacknowledged),
      retriesAnsweredWithAnotherId: sample(retryMismatches),
      errors: sample(errors),
      queryErrors: sample(probe.otherQueryErrors),
    },
  }).toEqual({
    acknowledged: total,
    stored: total,
    lost: 0,
    duplicates: 0,
    retriesAnsweredWithAnotherId: 0,
    orderViolations: 0,
    authorMismatches: 0,
    seqProblems: 0,
    createdAtInversions: 0,
    errors: 0,
    queryErrors: 0,
    subscriberMismatches: [],
    openings: teams.map((_, t) => `T${t} opening`),
    examples: { lost: [], duplicated: [], unacknowledged: [], retriesAnsweredWithAnotherId: [], errors: [], queryErrors: [] },
  });
}, 600_000);
