import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SendMessageDocument } from '../../../web/gql/graphql';
import { ok } from '../../support/graphql';
import type { Person } from '../../support/world';
import type { Instance } from './instance';

export interface Live {
  id: string;
  threadId: string;
  body: string;
}

const MESSAGE_ADDED = 'subscription { messageAdded { id threadId body } }';
const PAGE = `query($t: ID!, $after: String) {
  thread(id: $t) { messages(first: 100, after: $after) { edges { cursor node { id threadId body } } pageInfo { hasNextPage endCursor } } }
}`;

/**
 * One graphql-ws connection of a person to one instance, subscribed to every
 * thread of theirs (messageAdded without threadId), as a dashboard keeps it.
 */
export class Connection {
  readonly received: Live[] = [];
  readonly errors: unknown[] = [];
  /** The websocket close code, once closed. */
  closeCode: number | null = null;
  readonly closed: Promise<number>;
  private readonly client: Client;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly person: Person,
    readonly instance: Instance,
    private readonly onMessage?: (message: Live) => void,
  ) {
    let closed!: (code: number) => void;
    this.closed = new Promise((resolve) => (closed = resolve));
    this.client = createClient({
      url: instance.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${person.token}` },
      retryAttempts: 0,
      lazy: true,
      on: {
        closed: (event) => {
          this.closeCode = (event as { code: number }).code;
          closed(this.closeCode);
          this.wake();
        },
      },
    });
    this.client.subscribe<{ messageAdded: Live }>(
      { query: MESSAGE_ADDED },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) {
            this.received.push(value.data.messageAdded);
            this.onMessage?.(value.data.messageAdded);
          }
          this.wake();
        },
        error: (error) => {
          this.errors.push(error);
          this.wake();
        },
        complete: () => this.wake(),
      },
    );
  }

  /** Ids received live for one thread, in arrival order. */
  ids(threadId: string): string[] {
    return this.received.filter((m) => m.threadId === threadId).map((m) => m.id);
  }

  /** Resolves once `check` holds; rejects after `timeoutMs` with `describe()` in the message. */
  until(check: () => boolean, timeoutMs = 15_000, describe = () => ''): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.listeners.delete(test);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(test);
        const problems = this.instance.logs().filter((line) => line.level >= 40).slice(-5);
        reject(
          new Error(
            `${this.person.name} on ${this.instance.name}: condition not reached in ${timeoutMs} ms ${describe()}; ` +
              `errors ${this.errors.map(describeError).join(', ') || 'none'}; closed with ${this.closeCode ?? 'nothing'}; ` +
              `${this.instance.name}'s last warnings: ${JSON.stringify(problems)}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(test);
      test();
    });
  }

  dispose(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }

  private wake(): void {
    for (const listener of this.listeners) listener();
  }
}

export const send = async (instance: Instance, author: Person, threadId: string, body: string): Promise<string> =>
  (await ok(instance.url, SendMessageDocument, { threadId, body }, author.token)).sendMessage.id;

/**
 * Proves that every connection's subscription is live: sends probe messages to
 * `probeThread` (which every connection's person is in) through `via` until each
 * connection has received one sent after it subscribed. graphql-ws has no
 * "subscribed" acknowledgement, and from outside the process there is no
 * subscriber count to poll.
 */
export async function untilLive(connections: Connection[], probeThread: string, via: Instance, author: Person, timeoutMs = 15_000): Promise<void> {
  const probes = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  const isLive = (c: Connection) => c.received.some((m) => probes.has(m.id));
  let n = 0;
  while (!connections.every(isLive)) {
    if (Date.now() > deadline) {
      throw new Error(`not live after ${timeoutMs} ms: ${connections.filter((c) => !isLive(c)).map((c) => `${c.person.name}@${c.instance.name}`).join(', ')}`);
    }
    probes.add(await send(via, author, probeThread, `probe ${++n}`));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A client that keeps a thread's messages as an app would: live messages are
 * appended as they come; after (re)subscribing it fetches
 * thread.messages(after: lastCursor), holding live messages back until the
 * fetch is merged, and skips what it already has.
 */
export class ThreadReader {
  /** Ids in the order the client holds them. */
  readonly messages: string[] = [];
  connection: Connection | null = null;
  private readonly have = new Set<string>();
  private lastCursor: string | null = null;
  private held: Live[] | null = null;

  constructor(
    readonly person: Person,
    readonly threadId: string,
  ) {}

  /** Subscribes on `instance`; call catchUp once the subscription is live. */
  connect(instance: Instance): Connection {
    this.held = [];
    this.connection = new Connection(this.person, instance, (message) => {
      if (message.threadId !== this.threadId) return;
      if (this.held) this.held.push(message);
      else this.add(message.id);
    });
    return this.connection;
  }

  /** Fetches every page after the last cursor, then releases the live messages held meanwhile. */
  async catchUp(via: Instance): Promise<void> {
    let hasNextPage = true;
    while (hasNextPage) {
      const { thread } = await ok(via.url, PAGE, { t: this.threadId, after: this.lastCursor }, this.person.token);
      for (const edge of thread.messages.edges) this.add(edge.node.id);
      if (thread.messages.pageInfo.endCursor) this.lastCursor = thread.messages.pageInfo.endCursor;
      hasNextPage = thread.messages.pageInfo.hasNextPage;
    }
    for (const message of this.held ?? []) this.add(message.id);
    this.held = null;
  }

  private add(id: string): void {
    if (this.have.has(id)) return;
    this.have.add(id);
    this.messages.push(id);
  }
}

/**
 * Lets in-flight deliveries land before checking what did NOT arrive (or that
 * nothing arrived twice): sends one probe to `probeThread` through each
 * instance and waits until every connection has them. Redis keeps each
 * publisher's order and each instance delivers in order, so whatever was
 * published earlier through those instances has been delivered by then.
 */
export async function settle(connections: Connection[], probeThread: string, author: Person, via: Instance[]): Promise<void> {
  const probes: string[] = [];
  for (const instance of via) probes.push(await send(instance, author, probeThread, `settle ${probes.length + 1}`));
  await Promise.all(connections.map((c) => c.until(() => probes.every((id) => c.received.some((m) => m.id === id)))));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'code' in error) return `close ${(error as { code: number }).code} ${(error as { reason?: string }).reason ?? ''}`;
  return JSON.stringify(error);
}
