import { Repeater } from '@graphql-yoga/subscription';
import type { MessageAddedEvent } from '../../events/event-bus';

export interface FeedOptions {
  viewerId: string;
  /** Only this thread's messages. */
  threadId?: string | null;
  canReceive(event: MessageAddedEvent, userId: string): boolean;
  /** Whether the viewer may see this message (a patient never sees a staff-only note); one they may not is skipped in sequence. */
  canSee(message: MessageAddedEvent['message']): boolean;
  /** Stored messages of a thread with afterSeq < seq < beforeSeq that the viewer may see, oldest first. */
  missing(threadId: string, afterSeq: number, beforeSeq: number): Promise<MessageAddedEvent['message'][]>;
  /**
   * The last sequence number of each of the viewer's threads when the
   * subscription started: a client fetches up to there after subscribing, and
   * any later message is delivered live (or fills a gap), even if a newer one
   * of the same thread happens to arrive first.
   */
  baseline?: Map<string, number>;
  /** Told of each message once it has gone out (the audit records the disclosure). */
  delivered(message: MessageAddedEvent['message']): void;
}

/**
 * One viewer's live messages: each thread's messages in sequence order, each
 * once. Events can arrive late, twice or out of order (publishing follows the
 * commit, instances publish independently, a reconnect re-sends); a message
 * seen twice is dropped, and a jump in a thread's sequence is filled from the
 * database before the newer message goes out. The database is read only on a
 * jump, never per ordinary event. A thread is forgotten when an event shows the
 * viewer is no longer in it.
 */
export function messageFeed(source: AsyncIterable<MessageAddedEvent>, options: FeedOptions): AsyncIterable<MessageAddedEvent> {
  const { viewerId, threadId } = options;
  const lastSeq = new Map<string, number>(options.baseline);
  return new Repeater(async (push, stop) => {
    const events = source[Symbol.asyncIterator]();
    // Ending the source ends the wait for its next event. (Not Promise.race with `stop`: each race
    // would leave a reaction on that one long-lived promise, keeping every event ever received.)
    void stop.then(() => events.return?.());
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        const event = next.value;
        const { message } = event;
        if (threadId && message.threadId !== threadId) continue;
        if (!options.canReceive(event, viewerId)) {
          lastSeq.delete(message.threadId);
          continue;
        }
        const last = lastSeq.get(message.threadId);
        if (last !== undefined && message.seq <= last) continue;
        if (last !== undefined && message.seq > last + 1) {
          for (const earlier of await options.missing(message.threadId, last, message.seq)) {
            await push({ message: earlier, recipientIds: event.recipientIds });
            options.delivered(earlier);
          }
        }
        lastSeq.set(message.threadId, message.seq);
        if (!options.canSee(message)) continue;
        await push(event);
        options.delivered(message);
      }
    } finally {
      await events.return?.();
      stop();
    }
  });
}
