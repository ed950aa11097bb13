import type { MessageAddedEvent, MessageData } from '../../src/events/event-bus';
import { createLogger } from '../../src/logger';
import { MessageSequencer } from '../../src/modules/messages/message-sequencer';

// One instance's live messages, put in order before any subscriber sees them:
// the events arrive in the order of the array given, as late, doubled or
// reordered as publishing across instances can make them.
// test/message-feed.test.ts makes the same cases with a real server's event bus.

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

const event = (threadId: string, seq: number, recipientIds = ['viewer', 'author']): MessageAddedEvent => ({ message: message(threadId, seq), recipientIds });

interface Run {
  /** What went out, as "thread #seq". */
  out: string[];
  /** Each read of stored messages: [threadId, afterSeq, beforeSeq]. */
  reads: [string, number, number][];
  events: MessageAddedEvent[];
}

/**
 * Feeds `events` to a sequencer and waits for it to go quiet. Every seq up to
 * the highest that arrives is stored, for filling gaps, addressed as
 * `recipientsOfFilled` says (all of the later event's recipients by default).
 */
async function run(
  events: MessageAddedEvent[],
  options: { baseline?: Map<string, number>; recipientsOfFilled?: (seq: number, later: MessageAddedEvent) => string[]; failFill?: boolean } = {},
): Promise<Run> {
  const result: Run = { out: [], reads: [], events: [] };
  const sequencer = new MessageSequencer({
    missing: async (threadId, afterSeq, beforeSeq, later) => {
      result.reads.push([threadId, afterSeq, beforeSeq]);
      if (options.failFill) throw new Error('the database is down');
      return Array.from({ length: beforeSeq - afterSeq - 1 }, (_, i) => ({
        message: message(threadId, afterSeq + 1 + i),
        recipientIds: options.recipientsOfFilled?.(afterSeq + 1 + i, later) ?? later.recipientIds,
      }));
    },
    deliver: (e) => {
      result.out.push(e.message.body);
      result.events.push(e);
    },
    logger: createLogger('silent'),
  });
  if (options.baseline) sequencer.prime(options.baseline);
  for (const e of events) sequencer.accept(e);
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  return result;
}

const bodies = (threadId: string, ...seqs: number[]) => seqs.map((seq) => `${threadId} #${seq}`);

test('messages in order go out in order, each once; the database is not read', async () => {
  const r = await run([event('t', 1), event('t', 2), event('t', 3)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3));
  expect(r.reads).toEqual([]);
});

test('a message that arrives twice goes out once, also when it comes back after newer ones', async () => {
  const r = await run([event('t', 1), event('t', 1), event('t', 2), event('t', 1), event('t', 2), event('t', 3)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3));
});

test('a jump in sequence is filled from the database once, oldest first; the late events that follow are dropped', async () => {
  const r = await run([event('t', 1), event('t', 4), event('t', 2), event('t', 3), event('t', 5)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3, 4, 5));
  expect(r.reads).toEqual([['t', 1, 4]]);
});

test("the filled messages go to those the store addresses them to: someone back in the thread gets nothing from while they were out", async () => {
  const r = await run([event('t', 1), event('t', 4, ['viewer', 'author', 'returned'])], {
    recipientsOfFilled: (_seq, later) => later.recipientIds.filter((id) => id !== 'returned'),
  });
  expect(r.events.map((e) => [e.message.seq, e.recipientIds])).toEqual([
    [1, ['viewer', 'author']],
    [2, ['viewer', 'author']],
    [3, ['viewer', 'author']],
    [4, ['viewer', 'author', 'returned']],
  ]);
});

test('events of a thread that come while its gap is filled wait, and go out in order after it', async () => {
  const r = await run([event('t', 1), event('t', 5), event('t', 7), event('t', 6)]);
  expect(r.out).toEqual(bodies('t', 1, 2, 3, 4, 5, 6, 7));
  expect(r.reads).toEqual([['t', 1, 5]]);
});

test('each thread keeps its own order: a jump in one does not hold back or fill the other', async () => {
  const r = await run([event('a', 1), event('b', 7), event('a', 3), event('b', 8), event('a', 2)]);
  expect(r.out).toEqual(['a #1', 'b #7', 'b #8', 'a #2', 'a #3']);
  expect(r.reads).toEqual([['a', 1, 3]]);
});

test('the baseline: a thread a subscriber has up to 5 finds the gap when 7 comes before 6; one it knows already keeps its place', async () => {
  const r = await run([event('t', 4), event('t', 5), event('t', 7), event('t', 6), event('t', 8)], { baseline: new Map([['t', 5]]) });
  expect(r.out).toEqual(bodies('t', 6, 7, 8));
  expect(r.reads).toEqual([['t', 5, 7]]);
  // A thread without a baseline starts at whatever arrives first.
  expect((await run([event('u', 9), event('u', 10)])).out).toEqual(bodies('u', 9, 10));
});

test('a fill that fails is skipped: the newer message still goes out, and the thread goes on', async () => {
  const r = await run([event('t', 1), event('t', 4), event('t', 5)], { failFill: true });
  expect(r.out).toEqual(bodies('t', 1, 4, 5));
});
