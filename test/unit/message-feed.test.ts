import type { MessageAddedEvent, MessageData } from '../../src/events/event-bus';
import { messageFeed, type FeedOptions } from '../../src/modules/messages/message-feed';

// One viewer's live feed over an in-memory source: the events arrive in the
// order of the array given, as late, doubled or reordered as publishing across
// instances can make them. test/message-feed.test.ts makes the same cases with
// a real server's event bus.

const VIEWER = 'viewer';

const message = (threadId: string, seq: number, over: Partial<MessageData> = {}): MessageData => ({
  id: `${threadId}-${seq}`,
  threadId,
  seq,
  authorId: 'author',
  body: `${threadId} #${seq}`,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
  readByCareTeamAt: null,
  clientMessageId: null,
  staffOnly: false,
  ...over,
});

const event = (threadId: string, seq: number, over: Partial<MessageData> = {}, recipientIds = [VIEWER, 'author']): MessageAddedEvent => ({
  message: message(threadId, seq, over),
  recipientIds,
});

async function* arriving(events: MessageAddedEvent[]): AsyncGenerator<MessageAddedEvent> {
  for (const e of events) yield e;
}

interface Run {
  /** What went out, as "thread #seq". */
  out: string[];
  /** What the audit was told went out. */
  delivered: string[];
  /** Each read of stored messages: [threadId, afterSeq, beforeSeq]. */
  reads: [string, number, number][];
  events: MessageAddedEvent[];
}

/**
 * Runs the feed over `events` to their end. `stored`: the thread's messages in
 * the database, for filling gaps (by default every seq up to the highest that
 * arrives). The viewer may receive and see everything unless `options` says otherwise.
 */
async function run(events: MessageAddedEvent[], options: Partial<FeedOptions> = {}, stored: MessageData[] = storedFor(events)): Promise<Run> {
  const result: Run = { out: [], delivered: [], reads: [], events: [] };
  const canSee = options.canSee ?? (() => true);
  const feed = messageFeed(arriving(events), {
    viewerId: VIEWER,
    canReceive: (e, userId) => e.recipientIds.includes(userId),
    canSee,
    missing: async (threadId, afterSeq, beforeSeq) => {
      result.reads.push([threadId, afterSeq, beforeSeq]);
      return stored.filter((m) => m.threadId === threadId && m.seq > afterSeq && m.seq < beforeSeq && canSee(m)).sort((a, b) => a.seq - b.seq);
    },
    delivered: (m) => result.delivered.push(m.body),
    ...options,
  });
  for await (const e of feed) {
    result.out.push(e.message.body);
    result.events.push(e);
  }
  return result;
}

function storedFor(events: MessageAddedEvent[]): MessageData[] {
  const highest = new Map<string, number>();
  for (const { message: m } of events) highest.set(m.threadId, Math.max(highest.get(m.threadId) ?? 0, m.seq));
  return [...highest].flatMap(([threadId, top]) => Array.from({ length: top }, (_, i) => message(threadId, i + 1)));
}

const bodies = (threadId: string, ...seqs: number[]) => seqs.map((seq) => `${threadId} #${seq}`);

test('messages in order go out in order, each once, each told to the audit; the database is not read', async () => {
  const r = await run([event('t', 1), event('t', 2), event('t', 3)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3));
  expect(r.delivered).toEqual(r.out);
  expect(r.reads).toEqual([]);
});

test('a message that arrives twice goes out once, also when it comes back after newer ones', async () => {
  const r = await run([event('t', 1), event('t', 1), event('t', 2), event('t', 1), event('t', 2), event('t', 3)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3));
  expect(r.delivered).toEqual(r.out);
});

test('a jump in sequence is filled from the database first, oldest first; the late events that follow are dropped', async () => {
  const r = await run([event('t', 1), event('t', 4), event('t', 2), event('t', 3), event('t', 5)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3, 4, 5));
  expect(r.delivered).toEqual(r.out);
  expect(r.reads).toEqual([['t', 1, 4]]);
  // The filled messages go out to the recipients of the event that showed the gap.
  expect(r.events[1].recipientIds).toEqual([VIEWER, 'author']);
});

test('each thread keeps its own order: a jump in one does not hold back or fill the other', async () => {
  const r = await run([event('a', 1), event('b', 7), event('a', 3), event('b', 8), event('a', 2)]);
  expect(r.out).toEqual(['a #1', 'b #7', 'a #2', 'a #3', 'b #8']);
  expect(r.reads).toEqual([['a', 1, 3]]);
});

test('the baseline: what the client fetches after subscribing is not sent again; any later message is, gaps filled, even if a newer one arrives first', async () => {
  const baseline = new Map([['t', 5]]);
  const r = await run([event('t', 4), event('t', 5), event('t', 7), event('t', 6), event('t', 8)], { baseline });
  expect(r.out).toEqual(bodies('t', 6, 7, 8));
  expect(r.reads).toEqual([['t', 5, 7]]);
  // A thread without a baseline starts at whatever arrives first.
  expect((await run([event('u', 9), event('u', 10)], { baseline })).out).toEqual(bodies('u', 9, 10));
});

test("only the viewer's threads' messages addressed to them: others are skipped without a read", async () => {
  const r = await run([event('t', 1), event('t', 2, {}, ['someone-else']), event('other', 1, {}, ['someone-else'])]);
  expect(r.out).toEqual(bodies('t', 1));
  expect(r.reads).toEqual([]);
});

test('a thread the viewer left is forgotten: once added again, nothing from while they were out is fetched or sent', async () => {
  const out = ['author'];
  const r = await run([event('t', 1), event('t', 2, {}, out), event('t', 3, {}, out), event('t', 4), event('t', 5)]);
  expect(r.out).toEqual(bodies('t', 1, 4, 5));
  expect(r.reads).toEqual([]);
});

test('a staff-only note is skipped for a patient, yet its sequence counts: the next message is no gap, nothing is fetched', async () => {
  const notes = [event('t', 1), event('t', 2, { staffOnly: true }), event('t', 3)];
  const patient = await run(notes, { canSee: (m) => !m.staffOnly });
  expect(patient.out).toEqual(bodies('t', 1, 3));
  expect(patient.delivered).toEqual(bodies('t', 1, 3));
  expect(patient.reads).toEqual([]);
  // Staff get the note.
  expect((await run(notes)).out).toEqual(bodies('t', 1, 2, 3));
});

test('a gap filled for a patient leaves out the staff-only notes in it', async () => {
  const stored = [message('t', 1), message('t', 2, { staffOnly: true }), message('t', 3), message('t', 4)];
  const r = await run([event('t', 1), event('t', 4)], { canSee: (m) => !m.staffOnly }, stored);
  expect(r.out).toEqual(bodies('t', 1, 3, 4));
  expect(r.delivered).toEqual(r.out);
});

test('with a threadId, only that thread: others are neither sent nor tracked', async () => {
  const r = await run([event('a', 1), event('b', 1), event('b', 5), event('a', 2)], { threadId: 'a' });
  expect(r.out).toEqual(bodies('a', 1, 2));
  expect(r.reads).toEqual([]);
});

test('ending the feed ends its source', async () => {
  let sourceEnded = false;
  async function* endless(): AsyncGenerator<MessageAddedEvent> {
    try {
      for (let seq = 1; ; seq++) yield event('t', seq);
    } finally {
      sourceEnded = true;
    }
  }
  const feed = messageFeed(endless(), { viewerId: VIEWER, canReceive: () => true, canSee: () => true, missing: async () => [], delivered: () => {} });
  const received: number[] = [];
  for await (const e of feed) {
    received.push(e.message.seq);
    if (received.length === 2) break;
  }
  expect(received).toEqual([1, 2]);
  expect(sourceEnded).toBe(true);
});
