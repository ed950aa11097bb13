import { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { ShardListener } from './shards';

/** One channel per shard of users (shards.ts): `carethread:users:0` to `carethread:users:4095`. */
const channelOf = (shard: number) => `carethread:users:${shard}`;
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
  /** The event's id: receivers drop one they already delivered (it comes once per shard of its recipients they listen to). */
  id: string;
  topic: string;
  payload: unknown;
}

/**
 * Carries events to the other instances through Redis pub/sub, on the
 * channels of their recipients' shards, to the instances that listen to
 * those shards: sharded pub/sub (SPUBLISH, SSUBSCRIBE) on Redis 7 and later,
 * PUBLISH and SUBSCRIBE before, as each connection finds at its (re)connect.
 * A lost connection never blocks or buffers a send: the send is dropped (so
 * memory stays bounded) and, once Redis is back, `onReconnect` handlers are
 * told when the link was lost so they can re-send what was committed
 * meanwhile (the outbox relay: a send reports whether Redis took it).
 */
export class RedisTransport implements ShardListener {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** Each connection that is ready, and whether its server has sharded pub/sub. */
  private readonly sharded = new Map<Redis, boolean>();
  /** The shards listened to, subscribed again after every (re)connect. */
  private readonly shards = new Set<number>();
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
    deliver: (topic: never, id: string, payload: never) => void,
    private readonly logger: Logger,
  ) {
    const options = {
      // Fail a command at once while disconnected instead of queueing it without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
      // ready() subscribes, after every (re)connect.
      autoResubscribe: false,
    };
    this.publisher = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS, connectionName: `carethread-pub-${instanceId}` });
    this.subscriber = new Redis(url, { ...options, connectionName: `carethread-sub-${instanceId}` });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.lost(error));
      client.on('close', () => {
        this.sharded.delete(client);
        this.lost();
      });
      client.on('ready', () => this.ready(client));
    }
    const receive = (_channel: string, text: string) => {
      const envelope = parse(text);
      if (!envelope || envelope.origin === this.instanceId) return;
      deliver(envelope.topic as never, envelope.id, envelope.payload as never);
    };
    this.subscriber.on('message', receive);
    this.subscriber.on('smessage', receive);
  }

  /**
   * Sends to the channels of `shards`, in one round trip. Resolves true once
   * Redis took the event (at once for no shard), false when it was dropped or
   * failed (never rejects).
   */
  send(shards: readonly number[], topic: string, id: string, payload: unknown): Promise<boolean> {
    if (!shards.length) return Promise.resolve(true);
    const sharded = this.sharded.get(this.publisher);
    if (sharded === undefined) {
      this.lost(new Error('the Redis connection for sends is not ready'));
      return Promise.resolve(false);
    }
    if (this.inFlight >= MAX_IN_FLIGHT_BYTES) {
      this.lost(new Error(`${this.inFlight} bytes of sends are waiting for Redis: dropping sends until they are answered`));
      return Promise.resolve(false);
    }
    const text = JSON.stringify({ origin: this.instanceId, id, topic, payload } satisfies Envelope);
    const bytes = text.length * shards.length;
    this.inFlight += bytes;
    const pipeline = this.publisher.pipeline();
    for (const shard of shards) {
      if (sharded) pipeline.spublish(channelOf(shard), text);
      else pipeline.publish(channelOf(shard), text);
    }
    return pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error);
        if (failed) throw failed[0];
      })
      .then(
        () => true,
        (error: Error) => {
          if (error.message === 'Command timed out') this.stalled(error);
          else this.lost(error);
          return false;
        },
      )
      .finally(() => {
        this.inFlight -= bytes;
        if (this.inFlight > DRAINED_BYTES) return;
        for (const wake of this.drainWaiters.splice(0)) wake();
        this.maybeRecovered();
      });
  }

  /** Listens to `shard` from now on, and again after every reconnect. */
  listen(shard: number): void {
    this.shards.add(shard);
    this.subscription('subscribe', [shard]);
  }

  unlisten(shard: number): void {
    this.shards.delete(shard);
    this.subscription('unsubscribe', [shard]);
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
    return !this.lostAt && !this.closing && this.sharded.has(this.publisher) && this.sharded.has(this.subscriber);
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

  /**
   * A connection is (again) ready: finds what its server has, subscribes the
   * subscriber to every shard listened to. A connection whose server does not
   * tell stays unused, and starts over.
   */
  private ready(client: Redis): void {
    client
      .info('server')
      // An ACL user may not be allowed INFO: classic pub/sub works everywhere.
      .then(hasShardedPubSub, (error: Error) => (error.message.includes('NOPERM') ? false : Promise.reject(error)))
      .then(
        (sharded) => {
          if (client.status !== 'ready') return;
          this.sharded.set(client, sharded);
          if (client === this.subscriber) this.subscription('subscribe', [...this.shards]);
          this.maybeRecovered();
        },
        (error: Error) => {
          this.lost(error);
          if (!this.closing && client.status === 'ready') client.disconnect(true);
        },
      );
  }

  /** Subscribes to, or unsubscribes from, the channels of `shards`; while the subscriber is not ready, ready() will. */
  private subscription(change: 'subscribe' | 'unsubscribe', shards: number[]): void {
    const sharded = this.sharded.get(this.subscriber);
    if (sharded === undefined || !shards.length) return;
    this.subscriber[sharded ? (`s${change}` as const) : change](...shards.map(channelOf)).catch((error: Error) => this.lost(error));
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
    if (!lostAt || !this.sharded.has(this.publisher) || !this.sharded.has(this.subscriber) || this.inFlight > DRAINED_BYTES) return;
    this.lostAt = null;
    this.logger.info({ lostAt }, 'Redis link is back');
    for (const handler of this.reconnectHandlers) handler(lostAt);
  }
}

/** Whether a server's `INFO server` shows sharded pub/sub: Redis 7 or later (Valkey reports its Redis compatibility there too). */
export function hasShardedPubSub(info: string): boolean {
  return Number(/^redis_version:(\d+)\./m.exec(info)?.[1] ?? 0) >= 7;
}

function parse(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Envelope;
    return typeof value?.origin === 'string' && typeof value.id === 'string' && typeof value.topic === 'string' ? value : null;
  } catch {
    return null;
  }
}
