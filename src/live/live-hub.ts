import type { DocumentNode, ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';
import type { RequestOrigin } from '../common/request-origin';
import { MESSAGE_ADDED, recipientsOf, type TopicEvent } from '../events/event-bus';
import type { Logger } from '../logger';
import type { OperationLabels } from '../metrics/operation-labels';
import type { Audience } from './audience';
import { CorkedWrites } from './corked-writes';
import type { LiveFeed, LiveViewer } from './live-feed';

/**
 * Bytes a socket may have waiting to be sent: about 20,000 ordinary messages.
 * A client that stops reading is cut off here (its socket destroyed;
 * graphql-ws's client reconnects and catches up with thread.messages(after:))
 * rather than held in memory without bound or allowed to slow the others. One
 * that is only slow never gets this far behind; one that stopped for good is
 * also found by the keep-alive pings (graphql-ws-adapter.ts).
 */
export const MAX_SOCKET_BACKLOG_BYTES = 16 * 1024 * 1024;

/** One subscription operation as a client sent it. */
export interface LiveOperation {
  document: DocumentNode;
  variableValues?: Record<string, unknown> | null;
  operationName?: string | null;
  /** What the metrics call it; its one root field names its subscriptions and deliveries. */
  labels: OperationLabels;
}

/** A live subscription: where its frames go, and who it is for. */
interface Subscription {
  /** graphql-ws's id of the operation. */
  readonly id: string;
  readonly feed: LiveFeed;
  readonly socket: WebSocket;
  readonly operation: LiveOperation;
  readonly origin: RequestOrigin;
  /** Each frame's start, encoded once: graphql-ws's `next` message with this operation's id; the shared payload's bytes follow. */
  readonly frameStart: Buffer;
  /** Its group among the recipients of an event: [when the viewer is not the event's author, when they are]. */
  readonly groups: readonly [string, string];
  open: boolean;
  /** Stops its delivery and ends what graphql-ws holds. */
  end(): void;
}

/** Recipients of one event who share a root value, an operation and an audience: one execution, one serialization. */
interface Group {
  rootKey: string;
  subscriptions: Subscription[];
}

export interface LiveHubOptions {
  /** Runs `operation` for `viewer` with `rootValue` as the subscription's event (graphql-js's own mapping of a source event). */
  execute(operation: LiveOperation, viewer: LiveViewer, origin: RequestOrigin, rootValue: unknown): Promise<ExecutionResult> | ExecutionResult;
  /** What clients see of a result's errors (masked, counted). */
  format(operation: LiveOperation, origin: RequestOrigin, errors: ExecutionResult['errors'] & object): GraphQLFormattedError[];
  /** How finely the recipients of `operation` must be grouped for each to get their own answer. */
  audience(operation: LiveOperation): Audience;
  /** Told, once per event, who it was written to (the audit records a message's disclosure). */
  delivered(event: ThreadEvent, userIds: string[]): void;
  /** Counts live subscriptions (+1, -1) and deliveries, by root field. */
  count: { subscriptions(field: string, change: number): void; deliveries(field: string, sent: number): void };
  logger: Logger;
}

/**
 * The live subscriptions of this instance, indexed by user, and their
 * delivery. An event reaches only the subscriptions of its recipients (the
 * participants at its commit travel with it: that is the access check); their
 * feeds say what it is to each; recipients who share a root value, an operation
 * with its variables and an audience (audience.ts) share one execution and one
 * serialized payload, written to each of their sockets as it is. A thread's
 * events go out in the order they came; those of different threads do not wait
 * for each other. Nothing here runs per subscriber but the key lookup and the
 * socket write.
 */
export class LiveHub {
  private readonly byUser = new Map<string, Set<Subscription>>();
  private readonly bySocket = new WeakMap<WebSocket, Set<Subscription>>();
  /** Ids for documents: the pipeline's parse cache gives equal operations the same one. */
  private readonly documents = new WeakMap<DocumentNode, number>();
  private nextDocument = 0;
  /** The last delivery of each thread with one under way: the next waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly corked = new CorkedWrites();
  private subscriptions = 0;

  constructor(private readonly options: LiveHubOptions) {}

  /** Live subscriptions on this instance. */
  get size(): number {
    return this.subscriptions;
  }

  /** Live subscriptions on `socket`. */
  countOn(socket: WebSocket): number {
    return this.bySocket.get(socket)?.size ?? 0;
  }

  /** Whether operation `id` of `socket` is live here (it may still be starting in graphql-ws's books). */
  holds(socket: WebSocket, id: string): boolean {
    for (const subscription of this.bySocket.get(socket) ?? []) if (subscription.id === id) return true;
    return false;
  }

  /**
   * Starts delivering `feed`'s events to operation `id` of `socket`. Returns
   * what graphql-ws holds for the operation: an iterator that yields nothing
   * (frames are written here) and ends when graphql-ws returns it (the client
   * completed the operation) or the socket closes, whatever graphql-ws knows
   * of it (a client that completes an id and subscribes with it again before
   * the first one started leaves that one out of graphql-ws's books).
   */
  async add(feed: LiveFeed, socket: WebSocket, id: string, operation: LiveOperation, origin: RequestOrigin): Promise<AsyncIterableIterator<never>> {
    let finish!: (step: IteratorResult<never>) => void;
    const ended = new Promise<IteratorResult<never>>((resolve) => (finish = resolve));
    const done = { done: true, value: undefined } as const;
    const subscription: Subscription = {
      id,
      feed,
      socket,
      operation,
      origin,
      frameStart: Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`),
      groups: this.groupsOf(feed.viewer, operation),
      open: true,
      end: () => {
        this.remove(subscription);
        finish(done);
      },
    };
    const iterator: AsyncIterableIterator<never> = {
      next: () => ended,
      return: async () => (subscription.end(), done),
      throw: async () => (subscription.end(), done),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    if (socket.readyState !== socket.OPEN) {
      subscription.open = false;
      finish(done);
      return iterator;
    }
    this.index(subscription);
    try {
      await feed.started();
    } catch (error) {
      subscription.end();
      throw error;
    }
    return iterator;
  }

  /** Delivers `event` (committed, in its thread's order) to the live subscriptions of its recipients on this instance. */
  route(event: ThreadEvent): void {
    const author = event.topic === MESSAGE_ADDED ? event.payload.message.authorId : null;
    // By root key, then by group name: no key is built per subscriber.
    const groups = new Map<string, Map<string, Group>>();
    for (const userId of recipientsOf(event)) {
      const subscriptions = this.byUser.get(userId);
      if (!subscriptions) continue;
      for (const subscription of subscriptions) {
        const rootKey = subscription.feed.keyOf(event);
        if (rootKey === null) continue;
        const name = subscription.groups[userId === author ? 1 : 0];
        let named = groups.get(rootKey);
        if (!named) groups.set(rootKey, (named = new Map()));
        const group = named.get(name);
        if (group) group.subscriptions.push(subscription);
        else named.set(name, { rootKey, subscriptions: [subscription] });
      }
    }
    if (groups.size) this.inOrder(threadOf(event), [...groups.values()].flatMap((named) => [...named.values()]), event);
  }

  /** Resolves once every event routed so far has gone out (or failed): for shutdown and tests. */
  async settled(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }

  private inOrder(threadId: string, groups: Group[], event: ThreadEvent): void {
    const previous = this.tails.get(threadId);
    const send = () => this.send(event, groups);
    const tail = (previous ? previous.then(send) : send()).catch((error: unknown) => {
      this.options.logger.error({ err: error, topic: event.topic, threadId }, 'a live delivery failed');
    });
    this.tails.set(threadId, tail);
    void tail.then(() => {
      if (this.tails.get(threadId) === tail) this.tails.delete(threadId);
    });
  }

  private async send(event: ThreadEvent, groups: Group[]): Promise<void> {
    const roots = new Map<string, unknown>();
    const rootOf = (group: Group) => {
      if (!roots.has(group.rootKey)) roots.set(group.rootKey, group.subscriptions[0].feed.rootOf(event, group.rootKey));
      return roots.get(group.rootKey);
    };
    const payloads = await Promise.all(groups.map((group) => this.payloadOf(group, rootOf(group))));
    const written: string[] = [];
    groups.forEach((group, i) => {
      let sent = 0;
      for (const subscription of group.subscriptions) {
        if (!this.write(subscription, payloads[i])) continue;
        sent++;
        written.push(subscription.feed.viewer.id);
      }
      if (sent) this.options.count.deliveries(group.subscriptions[0].operation.labels.fields[0], sent);
    });
    if (written.length) this.options.delivered(event, [...new Set(written)]);
  }

  /** The group's result, executed for its first member, serialized and encoded: the rest of each frame after `frameStart`. */
  private async payloadOf(group: Group, rootValue: unknown): Promise<Buffer> {
    const { feed, operation, origin } = group.subscriptions[0];
    const result = await this.options.execute(operation, feed.viewer, origin, rootValue);
    const errors = result.errors ? this.options.format(operation, origin, result.errors) : undefined;
    return Buffer.from(`${JSON.stringify(errors ? { ...result, errors } : result)}}`);
  }

  private write(subscription: Subscription, payload: Buffer): boolean {
    const { socket } = subscription;
    if (!subscription.open || socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > MAX_SOCKET_BACKLOG_BYTES) {
      this.options.logger.warn({ userId: subscription.feed.viewer.id, backlog: socket.bufferedAmount }, 'a live client stopped reading: closing its socket');
      socket.terminate();
      return false;
    }
    this.corked.hold(socket);
    // Bytes, not a string: nothing is encoded per socket, only the two parts copied.
    socket.send(Buffer.concat([subscription.frameStart, payload]), { binary: false });
    return true;
  }

  /** The group names of a subscription: recipients share an execution only with the same operation, variables and kind, and as the audience requires. */
  private groupsOf(viewer: LiveViewer, operation: LiveOperation): [string, string] {
    let document = this.documents.get(operation.document);
    if (document === undefined) this.documents.set(operation.document, (document = this.nextDocument++));
    const base = `${document}\n${operation.operationName ?? ''}\n${JSON.stringify(operation.variableValues ?? {})}\n${viewer.kind}`;
    switch (this.options.audience(operation)) {
      case 'shared':
        return [base, base];
      case 'author':
        return [`${base}\nreader`, `${base}\nauthor`];
      case 'viewer':
        return [`${base}\n${viewer.id}`, `${base}\n${viewer.id}`];
    }
  }

  private index(subscription: Subscription): void {
    const { feed, socket, operation } = subscription;
    const ofUser = this.byUser.get(feed.viewer.id) ?? new Set();
    this.byUser.set(feed.viewer.id, ofUser);
    ofUser.add(subscription);
    let onSocket = this.bySocket.get(socket);
    if (!onSocket) {
      const subscriptions = (onSocket = new Set());
      this.bySocket.set(socket, onSocket);
      // One listener per socket, however many subscriptions it runs.
      socket.once('close', () => subscriptions.forEach((s) => s.end()));
    }
    onSocket.add(subscription);
    this.subscriptions++;
    this.options.count.subscriptions(operation.labels.fields[0], 1);
  }

  private remove(subscription: Subscription): void {
    if (!subscription.open) return;
    subscription.open = false;
    const { feed, socket, operation } = subscription;
    const ofUser = this.byUser.get(feed.viewer.id);
    ofUser?.delete(subscription);
    if (ofUser && !ofUser.size) this.byUser.delete(feed.viewer.id);
    this.bySocket.get(socket)?.delete(subscription);
    this.subscriptions--;
    this.options.count.subscriptions(operation.labels.fields[0], -1);
  }
}

/** The events live subscriptions hear of: each concerns one thread. */
export type ThreadEvent = Exclude<TopicEvent, { topic: 'USER_DISABLED' | 'SESSIONS_ENDED' }>;

const threadOf = (event: ThreadEvent): string => (event.topic === MESSAGE_ADDED ? event.payload.message.threadId : event.payload.threadId);
