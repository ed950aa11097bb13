import { Redis } from 'ioredis';
import type { Logger } from '../logger';

const CHANNEL_PREFIX = 'carethread:';
/**
 * Bytes of sends awaiting Redis's reply. A connection that stays open while
 * Redis no longer answers (a network partition, a hung server) would otherwise
 * keep every send in memory. Beyond MAX_IN_FLIGHT_BYTES a send is dropped and
 * the link counts as lost until the backlog is down to DRAINED_BYTES (then what
 * was committed meanwhile is sent by the outbox relay); a reply later than
 * COMMAND_TIMEOUT_MS means Redis stopped answering, and both connections start
 * over. A healthy link keeps a few kB in flight.
 */
const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;
const DRAINED_BYTES = 256 * 1024;
const COMMAND_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 1_000;

interface Envelope {
  origin: string;
  /** The event's id: receivers drop one they already delivered. */
  id: string;
  payload: unknown;
}

/**
 * Carries events to the other instances through Redis pub/sub. A lost
 * connection never blocks or buffers a send: the send is dropped (so memory
 * stays bounded) and, once Redis is back, `onReconnect` handlers are told
 * when the link was lost so they can re-send what was committed meanwhile
 * (the outbox relay: a send reports whether Redis took it).
 */
export class RedisTransport {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private lostAt: Date | null = null;
  private closing = false;
  /** Bytes (UTF-16 code units, near enough) of sends awaiting Redis's reply. */
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];
  private readonly dropping = new Set<Redis>();
  private readonly reconnectHandlers: ((lostAt: Date) => void)[] = [];

  constructor(
    url: string,
    private readonly instanceId: string,
    topics: string[],
    deliver: (topic: never, id: string, payload: never) => void,
    private readonly logger: Logger,
  ) {
    const options = {
      // Fail a command at once while disconnected instead of queueing it without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
      // The 'ready' handler below subscribes, after every (re)connect.
      autoResubscribe: false,
    };
    this.publisher = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: `carethread-pub-${instanceId}` });
    this.subscriber = new Redis(url, { ...options, connectionName: `carethread-sub-${instanceId}` });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.lost(error));
      client.on('close', () => this.lost());
      client.on('ready', () => this.maybeRecovered());
    }
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(...topics.map((t) => CHANNEL_PREFIX + t)).catch((error: Error) => this.lost(error));
    });
    this.subscriber.on('message', (channel: string, text: string) => {
      const envelope = parse(text);
      if (!envelope || envelope.origin === this.instanceId) return;
      deliver(channel.slice(CHANNEL_PREFIX.length) as never, envelope.id, envelope.payload as never);
    });
  }

  /** Resolves true once Redis took the event, false when it was dropped or failed (never rejects). */
  send(topic: string, id: string, payload: unknown): Promise<boolean> {
    if (this.inFlight >= MAX_IN_FLIGHT_BYTES) {
      this.lost(new Error(`${this.inFlight} bytes of sends are waiting for Redis: dropping sends until they are answered`));
      return Promise.resolve(false);
    }
    const text = JSON.stringify({ origin: this.instanceId, id, payload } satisfies Envelope);
    this.inFlight += text.length;
    return this.publisher
      .publish(CHANNEL_PREFIX + topic, text)
      .then(
        () => true,
        (error: Error) => {
          if (error.message === 'Command timed out') this.stalled(error);
          else this.lost(error);
          return false;
        },
      )
      .finally(() => {
        this.inFlight -= text.length;
        if (this.inFlight > DRAINED_BYTES) return;
        for (const wake of this.drainWaiters.splice(0)) wake();
        this.maybeRecovered();
      });
  }

  /** Resolves once at most DRAINED_BYTES wait for Redis (or after COMMAND_TIMEOUT_MS, by when they have failed). */
  drained(): Promise<void> {
    if (this.inFlight <= DRAINED_BYTES) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, COMMAND_TIMEOUT_MS);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Both connections answer a PING; rejects at once while one is disconnected (commands are never queued). */
  async ping(): Promise<void> {
    await Promise.all([this.publisher.ping(), this.subscriber.ping()]);
  }

  /** Whether sends can reach Redis now: not while the link counts as lost. */
  get connected(): boolean {
    return !this.lostAt && !this.closing && this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  onReconnect(handler: (lostAt: Date) => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** QUITs both connections; one that gets no answer within CLOSE_TIMEOUT_MS (Redis stalled) is dropped. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.drainWaiters.splice(0)) wake();
    await Promise.all(
      [this.publisher, this.subscriber].map(
        (client) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              client.disconnect();
              resolve();
            }, CLOSE_TIMEOUT_MS);
            client
              .quit()
              .catch(() => client.disconnect())
              .finally(() => {
                clearTimeout(timer);
                resolve();
              });
          }),
      ),
    );
  }

  private lost(error?: Error): void {
    if (this.lostAt || this.closing) return;
    this.lostAt = new Date();
    this.logger.warn({ err: error }, 'lost the Redis link: live events to other instances are paused');
  }

  /** Redis stopped answering on an open connection: drop both connections (failing what waits) and reconnect. */
  private stalled(error: Error): void {
    if (this.closing) return;
    this.lost(error);
    for (const client of [this.publisher, this.subscriber]) {
      // Every send that timed out lands here; a connection is dropped once (its status changes only on 'close').
      if (client.status !== 'ready' || this.dropping.has(client)) continue;
      this.dropping.add(client);
      client.once('close', () => this.dropping.delete(client));
      client.disconnect(true);
    }
  }

  private maybeRecovered(): void {
    const lostAt = this.lostAt;
    if (!lostAt || this.publisher.status !== 'ready' || this.subscriber.status !== 'ready' || this.inFlight > DRAINED_BYTES) return;
    this.lostAt = null;
    this.logger.info({ lostAt }, 'Redis link is back');
    for (const handler of this.reconnectHandlers) handler(lostAt);
  }
}

function parse(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Envelope;
    return typeof value?.origin === 'string' && typeof value.id === 'string' ? value : null;
  } catch {
    return null;
  }
}
