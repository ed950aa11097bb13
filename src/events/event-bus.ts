import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import type { Logger } from '../logger';
import { RedisTransport } from './redis-transport';

/** A stored message as it travels between instances: plain JSON, dates as ISO strings. */
export interface MessageData {
  id: string;
  threadId: string;
  seq: number;
  authorId: string;
  body: string;
  createdAt: string;
  clientMessageId: string | null;
}

export interface MessageAddedEvent {
  message: MessageData;
  /** The thread's participants when the message was committed: exactly who may receive it. */
  recipientIds: string[];
}

/** What crosses from writers to live subscribers, by topic. */
export interface Events {
  MESSAGE_ADDED: MessageAddedEvent;
}

export type Topic = keyof Events;
export const MESSAGE_ADDED = 'MESSAGE_ADDED' satisfies Topic;
export const TOPICS: Topic[] = [MESSAGE_ADDED];

/**
 * The publish/subscribe seam between writers and live subscribers. Publish
 * only after the transaction commits. Delivery on this instance never waits
 * for, or depends on, the transport to other instances.
 */
export interface EventBus {
  publish<T extends Topic>(topic: T, payload: Events[T]): void;
  subscribe<T extends Topic>(topic: T): AsyncIterable<Events[T]>;
  /** Live subscriptions listening right now, on this instance. */
  subscriberCount(): number;
  /**
   * Called after the link to other instances was lost and is back, with the
   * time it was lost: events published meanwhile may never have arrived.
   */
  onReconnect(handler: (lostAt: Date) => void): void;
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** Redis for events between instances; null keeps them in this process. */
  redisUrl: string | null;
  /** Tags what this instance sends, so that it ignores its own echo. */
  instanceId: string;
  logger: Logger;
}

export function createEventBus(options: EventBusOptions): EventBus {
  const target = new CountingEventTarget();
  // One listener per live subscription: hundreds are normal, not a leak.
  setMaxListeners(0, target);
  const local = createPubSub<{ [T in Topic]: [Events[T]] }>({ eventTarget: target });
  const deliverLocally = <T extends Topic>(topic: T, payload: Events[T]) =>
    (local.publish as (topic: T, payload: Events[T]) => void)(topic, payload);
  const transport = options.redisUrl ? new RedisTransport(options.redisUrl, options.instanceId, TOPICS, deliverLocally, options.logger) : null;

  return {
    publish(topic, payload) {
      deliverLocally(topic, payload);
      transport?.send(topic, payload);
    },
    subscribe: (topic) => local.subscribe(topic) as AsyncIterable<Events[typeof topic]>,
    subscriberCount: () => target.listeners,
    onReconnect: (handler) => transport?.onReconnect(handler),
    close: async () => transport?.close(),
  };
}

class CountingEventTarget extends EventTarget {
  listeners = 0;

  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++;
    super.addEventListener(...args);
  }

  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
}
