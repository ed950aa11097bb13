import { Redis } from 'ioredis';
import type { Logger } from '../logger';

const CHANNEL_PREFIX = 'carethread:';

interface Envelope {
  origin: string;
  payload: unknown;
}

/**
 * Carries events to the other instances through Redis pub/sub. A lost
 * connection never blocks or buffers a send: the send is dropped (so memory
 * stays bounded) and, once Redis is back, `onReconnect` handlers are told
 * when the link was lost so they can re-send what was committed meanwhile.
 */
export class RedisTransport {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private lostAt: Date | null = null;
  private closing = false;
  private readonly reconnectHandlers: ((lostAt: Date) => void)[] = [];

  constructor(
    url: string,
    private readonly instanceId: string,
    topics: string[],
    deliver: (topic: never, payload: never) => void,
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
    this.publisher = new Redis(url, { ...options, connectionName: `carethread-pub-${instanceId}` });
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
      deliver(channel.slice(CHANNEL_PREFIX.length) as never, envelope.payload as never);
    });
  }

  send(topic: string, payload: unknown): void {
    const envelope: Envelope = { origin: this.instanceId, payload };
    this.publisher.publish(CHANNEL_PREFIX + topic, JSON.stringify(envelope)).catch((error: Error) => this.lost(error));
  }

  onReconnect(handler: (lostAt: Date) => void): void {
    this.reconnectHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.publisher, this.subscriber].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private lost(error?: Error): void {
    if (this.lostAt || this.closing) return;
    this.lostAt = new Date();
    this.logger.warn({ err: error }, 'lost the Redis link: live events to other instances are paused');
  }

  private maybeRecovered(): void {
    const lostAt = this.lostAt;
    if (!lostAt || this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.lostAt = null;
    this.logger.info({ lostAt }, 'Redis link is back');
    for (const handler of this.reconnectHandlers) handler(lostAt);
  }
}

function parse(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Envelope;
    return typeof value?.origin === 'string' ? value : null;
  } catch {
    return null;
  }
}
