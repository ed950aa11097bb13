import type { Logger } from '../logger';
import { RedisTransport } from './redis-transport';
import { ShardWatches, shardsOf } from './shards';

/** A stored message as it travels between instances: plain JSON, dates as ISO strings. */
export interface MessageData {
  id: string;
  threadId: string;
  seq: number;
  authorId: string;
  body: string;
  createdAt: string;
  /** ISO time the care team first read it, or null: a message filling a gap or sent again after an outage may have been read already. */
  readByCareTeamAt: string | null;
  clientMessageId: string | null;
  /** Professionals only: a patient's feed skips it (and never fetches it to fill a gap). */
  staffOnly: boolean;
  /** Its files' descriptions, in order (never their bytes); absent in events written before attachments existed. */
  attachments?: AttachmentData[];
}

/** One file on a message, as the message carries it. */
export interface AttachmentData {
  id: string;
  name: string;
  /** Decided by the contents. */
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  /** For an image: a small WebP, base64. */
  thumbnail: string | null;
}

export interface MessageAddedEvent {
  message: MessageData;
  /** The thread's participants when the message was committed: exactly who may receive it. */
  recipientIds: string[];
}

/** A committed change of a thread's participants: its creation, an addition, a leave, a removal (by someone else: actorId). */
export interface ParticipantsChangedEvent {
  threadId: string;
  /** The participants after the change committed: exactly who may hear of it, with removedIds. */
  participantIds: string[];
  addedIds: string[];
  removedIds: string[];
  actorId: string;
  /** The change created the thread: its creator was not added to anything. */
  created: boolean;
  /** ISO time of the change. */
  at: string;
}

/** A team's handling of a thread changed (assignee, status), or its members were alerted that the patient waits too long. */
export interface InboxChangedEvent {
  threadId: string;
  teamId: string;
  /** The team's members in the thread when it committed: exactly who hears of it (never a patient). */
  recipientIds: string[];
  /** An escalation alert rather than a change. */
  escalated: boolean;
  actorId: string;
  /** ISO time of the change. */
  at: string;
}

/** An admin disabled an account: every instance closes its live connections at once. */
export interface UserDisabledEvent {
  userId: string;
}

/**
 * Sessions of one account ended (signed out, signed out everywhere, the
 * password changed, the account disabled): every instance closes their
 * sockets at once. The ended sessions are listed, so that one begun after the
 * change keeps its sockets however late the event arrives.
 */
export interface SessionsEndedEvent {
  userId: string;
  sessionIds: string[];
  /** Every session of the account ended (signed out everywhere, the account disabled), not only those listed. */
  everySession: boolean;
  /** The close reason the sockets get, e.g. "Signed out". */
  reason: string;
}

/** What crosses from writers to live subscribers, by topic. */
export interface Events {
  MESSAGE_ADDED: MessageAddedEvent;
  PARTICIPANTS_CHANGED: ParticipantsChangedEvent;
  INBOX_CHANGED: InboxChangedEvent;
  USER_DISABLED: UserDisabledEvent;
  SESSIONS_ENDED: SessionsEndedEvent;
}

export type Topic = keyof Events;
export const MESSAGE_ADDED = 'MESSAGE_ADDED' satisfies Topic;
export const PARTICIPANTS_CHANGED = 'PARTICIPANTS_CHANGED' satisfies Topic;
export const INBOX_CHANGED = 'INBOX_CHANGED' satisfies Topic;
export const USER_DISABLED = 'USER_DISABLED' satisfies Topic;
export const SESSIONS_ENDED = 'SESSIONS_ENDED' satisfies Topic;
export const TOPICS: Topic[] = [MESSAGE_ADDED, PARTICIPANTS_CHANGED, INBOX_CHANGED, USER_DISABLED, SESSIONS_ENDED];

/** One published event. Its id (the outbox row's) is what lets every instance deliver it once however often it is sent. */
export interface BusEvent<T extends Topic = Topic> {
  id: string;
  topic: T;
  payload: Events[T];
}

/** Any one published event, its payload matching its topic. */
export type AnyBusEvent = { [T in Topic]: BusEvent<T> }[Topic];

/** An event's topic and payload, its payload matching its topic. */
export type TopicEvent = { [T in Topic]: Omit<BusEvent<T>, 'id'> }[Topic];

/**
 * Exactly who may hear of an event, and so the live subscriptions it reaches
 * and the instances it is sent to: the participants when a message
 * committed; those in the thread after a participants change and those it
 * removed (so they learn they are out); the team members an inbox change
 * names; the account an admin disabled, or whose sessions ended.
 */
export function recipientsOf(event: TopicEvent): readonly string[] {
  switch (event.topic) {
    case MESSAGE_ADDED:
    case INBOX_CHANGED:
      return event.payload.recipientIds;
    case PARTICIPANTS_CHANGED:
      return [...event.payload.participantIds, ...event.payload.removedIds];
    case USER_DISABLED:
    case SESSIONS_ENDED:
      return [event.payload.userId];
  }
}

/** Event ids each instance remembers, to drop an event it already delivered (the relay may send one again). */
export const RECENT_EVENT_IDS = 50_000;

/**
 * The publish/subscribe seam between writers and live subscribers. Only the
 * outbox publishes (after the transaction that wrote the event commits).
 * Delivery on this instance never waits for, or depends on, the transport to
 * other instances. An event whose id this instance delivered already (among
 * the last RECENT_EVENT_IDS) is dropped, whoever sends it again.
 */
export interface EventBus {
  /**
   * Delivers on this instance and sends to the instances that watch one of
   * its recipients (recipientsOf). Resolves true once
   * Redis took it (at once without Redis), false when it could not be sent:
   * the event then stays for the outbox relay. Never rejects.
   */
  publish(event: AnyBusEvent): Promise<boolean>;
  /** Delivers on this instance only (what it may have missed while the Redis link was down). */
  deliver(event: AnyBusEvent): void;
  /** Whether sends reach the other instances now (always without Redis). */
  connected(): boolean;
  /** Whether there are other instances to send to (a Redis URL was given). */
  readonly shared: boolean;
  /**
   * This instance has a live connection of `userId`: events for that user
   * are sent to it until the returned release is called (once is enough;
   * more are ignored). Counted, so each connection watches and releases
   * on its own; without Redis only counted.
   */
  watch(userId: string): () => void;
  /**
   * A listener inside this server (the live hub, for one): called synchronously with every event of `topic`
   * delivered on this instance, whichever instance published it. A handler that
   * throws is logged and never fails the publish. Returns the unsubscribe.
   */
  on<T extends Topic>(topic: T, handler: (payload: Events[T]) => void): () => void;
  /**
   * Called after the link to other instances was lost and is back, with the
   * time it was lost: events published meanwhile may never have arrived.
   */
  onReconnect(handler: (lostAt: Date) => void): void;
  /** Resolves once sends to other instances are no longer backed up (at once without Redis): lets a bulk sender pace itself. */
  drained(): Promise<void>;
  /** Resolves when both Redis connections answer a PING (at once without Redis); rejects at once while one is disconnected. */
  ping(): Promise<void>;
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
  const handlers = new Map<Topic, Set<(payload: never) => void>>();
  const seen = new RecentIds(RECENT_EVENT_IDS);
  const deliverLocally = <T extends Topic>(topic: T, id: string, payload: Events[T]) => {
    if (!seen.add(id)) return;
    for (const handler of handlers.get(topic) ?? []) {
      try {
        (handler as (payload: Events[T]) => void)(payload);
      } catch (error) {
        options.logger.error({ err: error, topic }, 'an event handler failed');
      }
    }
  };
  const transport = options.redisUrl ? new RedisTransport(options.redisUrl, options.instanceId, deliverLocally, options.logger) : null;
  const watches = new ShardWatches(transport);

  return {
    publish(event) {
      deliverLocally(event.topic, event.id, event.payload);
      return transport ? transport.send(shardsOf(recipientsOf(event)), event.topic, event.id, event.payload) : Promise.resolve(true);
    },
    deliver: (event) => deliverLocally(event.topic, event.id, event.payload),
    connected: () => transport?.connected ?? true,
    shared: transport !== null,
    watch: (userId) => watches.watch(userId),
    on(topic, handler) {
      const set = handlers.get(topic) ?? new Set();
      handlers.set(topic, set);
      set.add(handler as (payload: never) => void);
      return () => set.delete(handler as (payload: never) => void);
    },
    onReconnect: (handler) => transport?.onReconnect(handler),
    drained: async () => transport?.drained(),
    ping: async () => transport?.ping(),
    close: async () => {
      watches.close();
      await transport?.close();
    },
  };
}

/** The last `max` ids added, in a Set (which iterates in insertion order, so the oldest goes first). */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly max: number) {}

  /** False when `id` is among the remembered ones already; otherwise remembers it, forgetting the oldest beyond `max`. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
