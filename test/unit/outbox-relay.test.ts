import type { EntityManager } from 'typeorm';
import { RecentIds, type AnyBusEvent, type EventBus } from '../../src/events/event-bus';
import { CLOCK_MARGIN_MS, MAX_REPLAYED, OutboxRelay, RELAY_CHUNK, type OutboxStore } from '../../src/events/outbox';
import type { Logger } from '../../src/logger';

// The outbox relay's rules, on an in-memory table and bus: what it sends, what it marks, when it stops.

interface Row {
  event: AnyBusEvent;
  createdAt: Date;
  publishedAt: Date | null;
}

class MemoryStore implements OutboxStore {
  rows: Row[] = [];

  add(count: number, createdAt: Date, published = false): AnyBusEvent[] {
    const events = Array.from({ length: count }, (): AnyBusEvent => ({ id: `e${this.rows.length}-${Math.random()}`, topic: 'USER_DISABLED', payload: { userId: 'u' } }));
    for (const event of events) this.rows.push({ event, createdAt, publishedAt: published ? createdAt : null });
    return events;
  }

  async write(_m: EntityManager, events: AnyBusEvent[]): Promise<void> {
    for (const event of events) this.rows.push({ event, createdAt: new Date(), publishedAt: null });
  }

  async claim(before: Date | null, limit: number, send: (events: AnyBusEvent[]) => Promise<string[]>): Promise<number> {
    const rows = this.rows.filter((r) => !r.publishedAt && (!before || r.createdAt < before)).slice(0, limit);
    if (!rows.length) return 0;
    const ids = new Set(await send(rows.map((r) => r.event)));
    for (const row of rows) if (ids.has(row.event.id)) row.publishedAt = new Date();
    return rows.length;
  }

  async since(since: Date, offset: number, limit: number): Promise<AnyBusEvent[]> {
    return this.rows.filter((r) => r.createdAt >= since).slice(offset, offset + limit).map((r) => r.event);
  }

  async markPublished(ids: string[]): Promise<void> {
    for (const row of this.rows) if (ids.includes(row.event.id)) row.publishedAt ??= new Date();
  }

  async prune(before: Date): Promise<void> {
    this.rows = this.rows.filter((r) => r.createdAt >= before);
  }

  unpublished(): number {
    return this.rows.filter((r) => !r.publishedAt).length;
  }
}

/** A bus whose Redis takes a send while `up`. */
function fakeBus(shared = true) {
  const bus = {
    up: true,
    published: [] as string[],
    delivered: [] as string[],
    shared,
    publish: async (event: AnyBusEvent) => {
      bus.published.push(event.id);
      return bus.up;
    },
    deliver: (event: AnyBusEvent) => void bus.delivered.push(event.id),
    connected: () => bus.up,
    drained: async () => undefined,
    onReconnect: () => undefined,
  };
  return bus;
}

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const relayOf = (store: MemoryStore, bus: ReturnType<typeof fakeBus>) =>
  new OutboxRelay(store as MemoryStore & OutboxStore, bus as unknown as EventBus, logger, { relayMs: 1000, keepMs: 60_000 });

test('the relay sends the unpublished rows older than its cut-off, a chunk at a time, and marks them published', async () => {
  const store = new MemoryStore();
  const bus = fakeBus();
  const old = store.add(RELAY_CHUNK * 2 + 5, new Date(Date.now() - 60_000));
  store.add(3, new Date(Date.now() - 60_000), true);
  const recent = store.add(4, new Date());
  expect(await relayOf(store, bus).relay(new Date(Date.now() - 1000))).toBe(old.length);
  expect(bus.published).toEqual(old.map((e) => e.id));
  expect(store.unpublished()).toBe(recent.length);
  // At start (no cut-off) the recent ones go too.
  expect(await relayOf(store, bus).relay(null)).toBe(recent.length);
  expect(store.unpublished()).toBe(0);
});

test('while the Redis link is down the relay sends nothing and leaves every row unpublished; a chunk nothing of which was taken stops it', async () => {
  const store = new MemoryStore();
  const bus = fakeBus();
  store.add(RELAY_CHUNK * 3, new Date(Date.now() - 60_000));
  bus.up = false;
  expect(await relayOf(store, bus).relay(null)).toBe(0);
  expect(bus.published).toEqual([]);

  // Connected, but Redis refuses every send: one chunk is tried, not all of them over and over.
  bus.connected = () => true;
  expect(await relayOf(store, bus).relay(null)).toBe(0);
  expect(bus.published).toHaveLength(RELAY_CHUNK);
  expect(store.unpublished()).toBe(RELAY_CHUNK * 3);
});

test('after an outage: delivers locally every event written since (less a margin for clocks), at most MAX_REPLAYED, then sends what is unpublished', async () => {
  const store = new MemoryStore();
  const bus = fakeBus();
  const lostAt = new Date(Date.now() - 30_000);
  const before = store.add(2, new Date(lostAt.getTime() - CLOCK_MARGIN_MS - 1), true);
  const margin = store.add(1, new Date(lostAt.getTime() - CLOCK_MARGIN_MS + 1), true);
  const othersDuringOutage = store.add(5, new Date(lostAt.getTime() + 1000), true);
  const ownUnsent = store.add(3, new Date(lostAt.getTime() + 2000));
  expect(await relayOf(store, bus).catchUp(lostAt)).toBe(margin.length + othersDuringOutage.length + ownUnsent.length);
  expect(bus.delivered).toEqual([...margin, ...othersDuringOutage, ...ownUnsent].map((e) => e.id));
  expect(bus.delivered).not.toContain(before[0].id);
  expect(bus.published).toEqual(ownUnsent.map((e) => e.id));
  expect(store.unpublished()).toBe(0);
});

test('a replay stops at MAX_REPLAYED events', async () => {
  const store = new MemoryStore();
  const bus = fakeBus();
  store.add(MAX_REPLAYED + 50, new Date(), true);
  expect(await relayOf(store, bus).catchUp(new Date(Date.now() - 1000))).toBe(MAX_REPLAYED);
  expect(bus.delivered).toHaveLength(MAX_REPLAYED);
});

test('after a commit: published at once, marked once Redis took it; without Redis no row is written', async () => {
  const store = new MemoryStore();
  const bus = fakeBus();
  const relay = relayOf(store, bus);
  const events = store.add(2, new Date());
  relay.publish(events);
  expect(bus.published).toEqual(events.map((e) => e.id));
  await relay.stop();
  expect(store.unpublished()).toBe(0);

  const down = fakeBus();
  down.up = false;
  const lost = store.add(1, new Date());
  const downRelay = relayOf(store, down);
  downRelay.publish(lost);
  await downRelay.stop();
  expect(store.unpublished()).toBe(1);

  const alone = new MemoryStore();
  await relayOf(alone, fakeBus(false)).write({} as EntityManager, store.add(1, new Date()));
  expect(alone.rows).toHaveLength(0);
});

test('RecentIds: drops an id it remembers, forgets the oldest beyond its size', () => {
  const ids = new RecentIds(2);
  expect(ids.add('a')).toBe(true);
  expect(ids.add('a')).toBe(false);
  expect(ids.add('b')).toBe(true);
  expect(ids.add('c')).toBe(true);
  expect(ids.add('b')).toBe(false);
  expect(ids.add('a')).toBe(true);
});

test('rounds forget rows older than keepMs, with or without Redis; without Redis they send nothing', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
  try {
    const store = new MemoryStore();
    const bus = fakeBus(false);
    store.add(2, new Date(Date.now() - 120_000));
    const kept = store.add(1, new Date());
    const relay = relayOf(store, bus);
    relay.start();
    await jest.advanceTimersByTimeAsync(1000);
    await relay.stop();
    expect(store.rows.map((r) => r.event.id)).toEqual(kept.map((e) => e.id));
    expect(bus.published).toEqual([]);
  } finally {
    jest.useRealTimers();
  }
});
