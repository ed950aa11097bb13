import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';

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

export type EventBus = PubSub<{ MESSAGE_ADDED: [MessageAddedEvent] }> & {
  /** Live subscriptions listening right now, on this instance. */
  subscriberCount(): number;
};

export const MESSAGE_ADDED = 'MESSAGE_ADDED';

/**
 * The publish/subscribe seam between writers and live subscribers. In-process
 * by default; the PubSub interface takes an event target, which is where a
 * transport across instances plugs in. Publish only after the transaction commits.
 */
export function createEventBus(): EventBus {
  const target = new CountingEventTarget();
  // One listener per live subscription: hundreds are normal, not a leak.
  setMaxListeners(0, target);
  return Object.assign(createPubSub<{ MESSAGE_ADDED: [MessageAddedEvent] }>({ eventTarget: target }), {
    subscriberCount: () => target.listeners,
  });
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
