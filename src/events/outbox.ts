import { In, IsNull, LessThan, MoreThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { Ticker } from '../common/ticker';
import { insertRows } from '../database/insert-rows';
import type { EventOutbox } from '../database/unit-of-work';
import type { Logger } from '../logger';
import type { AnyBusEvent, EventBus } from './event-bus';
import { OutboxEvent } from './outbox-event.entity';

/** Rows read, sent and marked at a time: a long outage's backlog never sits in memory at once. */
export const RELAY_CHUNK = 100;
/** Beyond this, an instance back from an outage leaves the rest to clients' catch-up queries (thread.messages(after:)). */
export const MAX_REPLAYED = 10_000;
/** Clocks of instances may disagree by this much. */
export const CLOCK_MARGIN_MS = 5_000;
/** Rows per INSERT or UPDATE: far below SQLite's and PostgreSQL's limits on bound parameters. */
const WRITE_BATCH = 500;
/** Marks of published rows wait this long to go out together in one UPDATE. */
const MARK_DELAY_MS = 20;

/** The outbox table as the relay needs it (OutboxTable below; a fake in unit tests). */
export interface OutboxStore {
  /**
   * Calls `send` with unpublished events created before `before` (any age when
   * null), oldest first, at most `limit`, then marks published the ids it
   * returns; returns how many were claimed. PostgreSQL: the rows are claimed
   * FOR UPDATE SKIP LOCKED until marked, so relays of two instances take
   * different rows.
   */
  claim(before: Date | null, limit: number, send: (events: AnyBusEvent[]) => Promise<string[]>): Promise<number>;
  /** Events created at or after `since`, published or not, oldest first: `limit` of them after skipping `offset`. */
  since(since: Date, offset: number, limit: number): Promise<AnyBusEvent[]>;
  markPublished(ids: string[]): Promise<void>;
  /** Forgets rows created before `before`. */
  prune(before: Date): Promise<void>;
}

export interface RelayOptions {
  /** How often the relay runs, and how long a row stays unpublished before any instance's relay sends it (OUTBOX_RELAY_MS). */
  relayMs: number;
  /** How long rows are kept, published or not (OUTBOX_KEEP_MS): the longest outage an instance can replay. */
  keepMs: number;
}

/**
 * Publishes the outbox. After a commit, `publish` delivers on this instance
 * and sends to Redis, marking each row published once Redis took it. What
 * stays unpublished (an instance that died between its commit and the send,
 * a send Redis dropped) is sent by the relay of every instance: at start,
 * every `relayMs` for rows older than `relayMs`, and once this instance's
 * Redis link is back, after it delivered locally what it missed meanwhile.
 * Subscribers drop an event they already had (the bus, by event id), so
 * sending one twice is harmless; losing one is what this prevents.
 */
export class OutboxRelay implements EventOutbox {
  private readonly ticker: Ticker;
  private started = false;
  private running: Promise<void> = Promise.resolve();
  private marks = new Set<string>();
  private markTimer: NodeJS.Timeout | null = null;
  private marking: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: OutboxStore & { write(m: EntityManager, events: AnyBusEvent[]): Promise<void> },
    private readonly events: EventBus,
    private readonly logger: Logger,
    options: RelayOptions,
  ) {
    this.ticker = new Ticker(
      options.relayMs,
      () => {
        const now = Date.now();
        return this.queue(async () => {
          if (this.events.shared) await this.relay(new Date(now - options.relayMs));
          await this.store.prune(new Date(now - options.keepMs));
        });
      },
      () => undefined,
    );
  }

  write(m: EntityManager, events: AnyBusEvent[]): Promise<void> {
    // Without Redis there is no other instance to send to, and the subscribers a crash
    // before `publish` would leave unserved end with this process: a row would serve nobody.
    return this.events.shared ? this.store.write(m, events) : Promise.resolve();
  }

  publish(events: AnyBusEvent[]): void {
    for (const event of events) {
      const sent = this.events.publish(event);
      if (this.events.shared) void sent.then((ok) => ok && this.mark(event.id));
    }
  }

  /**
   * Sends what was left unpublished, then every `relayMs` what stays so, and
   * catches up after each Redis outage; without Redis there is nothing to
   * send, and the rounds only forget rows older than `keepMs`.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.events.shared) {
      this.events.onReconnect((lostAt) => void this.queue(() => this.catchUp(lostAt)));
      void this.queue(() => this.relay(null));
    }
    this.ticker.start();
  }

  /** Stops the relay, waits for a round in progress and writes the pending marks. */
  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.running;
    await this.flushMarks();
  }

  /**
   * Sends the unpublished rows created before `before` (all when null), a
   * chunk at a time; stops early while the Redis link is down (a chunk nothing
   * of which was taken). Returns how many were sent.
   */
  async relay(before: Date | null): Promise<number> {
    let sent = 0;
    for (;;) {
      if (!this.events.connected()) return sent;
      let acked = 0;
      const claimed = await this.store.claim(before, RELAY_CHUNK, async (events) => {
        const results = await Promise.all(events.map((event) => this.events.publish(event)));
        const ids = events.filter((_, i) => results[i]).map((event) => event.id);
        acked = ids.length;
        await this.events.drained();
        return ids;
      });
      sent += acked;
      if (claimed < RELAY_CHUNK || acked === 0) return sent;
    }
  }

  /**
   * After the Redis link was down since `lostAt`: delivers on this instance
   * every event written since then (less a margin for clocks), up to
   * MAX_REPLAYED, which its subscribers may have missed (those they had are
   * dropped by id), then sends what is still unpublished. Returns how many
   * were replayed.
   */
  async catchUp(lostAt: Date): Promise<number> {
    const from = new Date(lostAt.getTime() - CLOCK_MARGIN_MS);
    let replayed = 0;
    while (replayed < MAX_REPLAYED) {
      const events = await this.store.since(from, replayed, Math.min(RELAY_CHUNK, MAX_REPLAYED - replayed));
      for (const event of events) this.events.deliver(event);
      replayed += events.length;
      if (events.length < RELAY_CHUNK) break;
    }
    const sent = await this.relay(null);
    this.logger.info({ lostAt, replayed, sent }, 'delivered the events written while the Redis link was down, and sent those still unpublished');
    return replayed;
  }

  /** One relay task at a time; a failure is logged, and the next round tries again. Resolves once `task` is done. */
  private queue(task: () => Promise<unknown>): Promise<void> {
    this.running = this.running.then(task).then(
      () => undefined,
      (error: unknown) => this.logger.error({ err: error }, 'the outbox relay failed'),
    );
    return this.running;
  }

  private mark(id: string): void {
    this.marks.add(id);
    this.markTimer ??= setTimeout(() => void this.flushMarks(), MARK_DELAY_MS);
  }

  private flushMarks(): Promise<void> {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = null;
    const ids = [...this.marks];
    this.marks.clear();
    if (!ids.length) return this.marking;
    // A failed mark only means the relay sends the event again later.
    this.marking = this.marking
      .then(() => this.store.markPublished(ids))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not mark outbox events published'));
    return this.marking;
  }
}

/** The outbox_events table. */
export class OutboxTable implements OutboxStore {
  constructor(private readonly db: DataSource) {}

  async write(m: EntityManager, events: AnyBusEvent[]): Promise<void> {
    const now = new Date();
    const rows = events.map((event) => ({ id: event.id, topic: event.topic, payload: JSON.stringify(event.payload), createdAt: now, publishedAt: null }));
    for (let i = 0; i < rows.length; i += WRITE_BATCH) await insertRows(m, OutboxEvent, rows.slice(i, i + WRITE_BATCH));
  }

  async claim(before: Date | null, limit: number, send: (events: AnyBusEvent[]) => Promise<string[]>): Promise<number> {
    const take = async (m: EntityManager) => {
      const q = m.createQueryBuilder(OutboxEvent, 'o').where('o.publishedAt IS NULL').orderBy('o.createdAt', 'ASC').addOrderBy('o.id', 'ASC').limit(limit);
      if (before) q.andWhere('o.createdAt < :before', { before });
      const postgres = m.connection.options.type === 'postgres';
      if (postgres) q.setLock('pessimistic_write').setOnLocked('skip_locked');
      const rows = await q.getMany();
      if (!rows.length) return 0;
      const ids = await send(rows.map(toEvent));
      if (ids.length) await m.update(OutboxEvent, { id: In(ids) }, { publishedAt: new Date() });
      return rows.length;
    };
    // SQLite: no transaction of its own (the unit of work's take turns on the one connection); each statement waits for the one running.
    return this.db.options.type === 'postgres' ? this.db.transaction(take) : take(this.db.manager);
  }

  async since(since: Date, offset: number, limit: number): Promise<AnyBusEvent[]> {
    const rows = await this.db.manager.find(OutboxEvent, { where: { createdAt: MoreThanOrEqual(since) }, order: { createdAt: 'ASC', id: 'ASC' }, skip: offset, take: limit });
    return rows.map(toEvent);
  }

  async markPublished(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += WRITE_BATCH) {
      await this.db.manager.update(OutboxEvent, { id: In(ids.slice(i, i + WRITE_BATCH)), publishedAt: IsNull() }, { publishedAt: new Date() });
    }
  }

  async prune(before: Date): Promise<void> {
    await this.db.manager.delete(OutboxEvent, { createdAt: LessThan(before) });
  }
}

function toEvent(row: OutboxEvent): AnyBusEvent {
  return { id: row.id, topic: row.topic, payload: JSON.parse(row.payload) } as AnyBusEvent;
}
