import type { MessageAddedEvent } from '../../events/event-bus';
import type { Logger } from '../../logger';

/** Threads whose last sequence number an instance remembers; beyond, the least recently active is forgotten (its next message cannot show a gap). */
export const REMEMBERED_THREADS = 100_000;

export interface SequencerOptions {
  /**
   * The stored messages of a thread with afterSeq < seq < beforeSeq, oldest
   * first, each addressed to those of `later`'s recipients who were in the
   * thread when it was written.
   */
  missing(threadId: string, afterSeq: number, beforeSeq: number, later: MessageAddedEvent): Promise<MessageAddedEvent[]>;
  /** Where the messages go out, each once, each thread's in sequence order. */
  deliver(event: MessageAddedEvent): void;
  logger: Logger;
}

/**
 * Puts one instance's live messages in order, once, before they reach any
 * subscriber. Events can arrive late, twice or out of order (publishing follows
 * the commit, instances publish independently, a Redis reconnect re-sends): a
 * message seen already is dropped, and a jump in a thread's sequence is filled
 * from the database, once for every subscriber, before the newer message goes
 * out; a thread's events wait meanwhile. The database is read only on a jump.
 */
export class MessageSequencer {
  private readonly last = new Map<string, number>();
  /** Threads whose gap is being filled, with the events that came meanwhile. */
  private readonly waiting = new Map<string, MessageAddedEvent[]>();

  constructor(private readonly options: SequencerOptions) {}

  /**
   * The last sequence numbers a subscriber's client is known to have (read
   * when it subscribed), for threads this instance knows nothing of yet: a
   * later message that arrives before the one in between still finds the gap.
   */
  prime(lastSeqs: ReadonlyMap<string, number>): void {
    for (const [threadId, seq] of lastSeqs) if (!this.last.has(threadId)) this.remember(threadId, seq);
  }

  accept(event: MessageAddedEvent): void {
    const { threadId, seq } = event.message;
    const waiting = this.waiting.get(threadId);
    if (waiting) {
      waiting.push(event);
      return;
    }
    const last = this.last.get(threadId);
    if (last !== undefined && seq <= last) return;
    if (last === undefined || seq === last + 1) {
      this.remember(threadId, seq);
      this.options.deliver(event);
      return;
    }
    this.waiting.set(threadId, [event]);
    void this.fill(threadId);
  }

  /** Delivers the thread's waiting events in order, each gap before them filled; a fill that fails is logged and skipped. */
  private async fill(threadId: string): Promise<void> {
    const waiting = this.waiting.get(threadId)!;
    while (waiting.length) {
      waiting.sort((a, b) => a.message.seq - b.message.seq);
      const next = waiting.shift()!;
      const last = this.last.get(threadId);
      if (last !== undefined && next.message.seq <= last) continue;
      if (last !== undefined && next.message.seq > last + 1) {
        try {
          for (const earlier of await this.options.missing(threadId, last, next.message.seq, next)) this.options.deliver(earlier);
        } catch (error) {
          this.options.logger.error({ err: error, threadId, afterSeq: last, beforeSeq: next.message.seq }, 'could not fill a gap in a live thread: its messages are skipped live');
        }
      }
      this.remember(threadId, next.message.seq);
      this.options.deliver(next);
    }
    this.waiting.delete(threadId);
  }

  private remember(threadId: string, seq: number): void {
    this.last.delete(threadId);
    this.last.set(threadId, seq);
    if (this.last.size > REMEMBERED_THREADS) this.last.delete(this.last.keys().next().value!);
  }
}
