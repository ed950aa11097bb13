import type { TopicEvent } from '../events/event-bus';

/** Who a live subscription belongs to, as much as delivery needs. */
export interface LiveViewer {
  id: string;
  /** Viewers of different kinds never share an execution (a patient's answer may leave out what staff see). */
  kind: string;
}

/**
 * What a subscription field's `subscribe` returns: which events reach its
 * viewer, and as what root value. The live hub (live-hub.ts) routes each event
 * to the feeds of its recipients only, asks each for its key, and executes the
 * operation once per key for everyone who shares it; nothing iterates the feed.
 */
export abstract class LiveFeed<V extends LiveViewer = LiveViewer> implements AsyncIterable<never> {
  constructor(readonly viewer: V) {}

  /**
   * What `event` is to this feed's viewer, who is among its recipients: a key
   * naming its root value (feeds that give an event the same key share one
   * root value and one execution), or null when it is not for them.
   * Synchronous and without I/O: it runs for every recipient.
   */
  abstract keyOf(event: TopicEvent): string | null;

  /** The root value that `key` (from keyOf) names for `event`; built once per event and key. */
  abstract rootOf(event: TopicEvent, key: string): unknown;

  /** Runs once the hub routes events here (a baseline read now misses nothing in between). */
  async started(): Promise<void> {}

  /** graphql-js checks that a subscription's source is an async iterable; the hub never iterates it. */
  [Symbol.asyncIterator](): AsyncIterator<never> {
    return { next: async () => ({ done: true, value: undefined as never }) };
  }
}
