import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createEventBus, type AnyBusEvent, type EventBus } from '../src/events/event-bus';
import { hasShardedPubSub } from '../src/events/redis-transport';
import { LINGER_MS, shardOf } from '../src/events/shards';
import { createLogger } from '../src/logger';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';

// Events between instances go through Redis only to the instances that watch
// one of their recipients (a shard of users per channel). Buses on the real
// Redis, without servers; other runs may share that Redis, so only this
// file's events (its ids) are counted.

const run = randomUUID().slice(0, 8);
const buses: EventBus[] = [];
let redisMissing = false;

beforeAll(async () => {
  redisMissing = !(await redisAnswers());
});

afterAll(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

/** A bus of an instance named `name`, connected, and the bodies of this file's messages delivered on it, in order. */
async function instance(name: string): Promise<{ bus: EventBus; heard: string[] }> {
  const bus = createEventBus({ redisUrl: TEST_REDIS_URL, instanceId: `routing-${name}-${run}`, logger: createLogger('silent') });
  buses.push(bus);
  const heard: string[] = [];
  bus.on('MESSAGE_ADDED', ({ message }) => message.id.startsWith(run) && heard.push(message.body));
  await until(() => bus.connected(), 'the Redis link');
  return { bus, heard };
}

/** Users of this run, each in a shard of its own. */
function users(count: number): string[] {
  const byShard = new Map<number, string>();
  while (byShard.size < count) {
    const user = `${run}-${randomUUID()}`;
    if (!byShard.has(shardOf(user))) byShard.set(shardOf(user), user);
  }
  return [...byShard.values()];
}

/** A message for `recipients`, its body `name`. */
function eventFor(name: string, recipients: string[]): AnyBusEvent {
  const id = `${run}-${name}`;
  const at = new Date().toISOString();
  const message = { id, threadId: id, seq: 1, authorId: recipients[0], body: name, createdAt: at, readByCareTeamAt: null, clientMessageId: null, staffOnly: false };
  return { id, topic: 'MESSAGE_ADDED', payload: { message, recipientIds: recipients } };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw Redis subscriber on the channels of `userIds`' shards, counting the deliveries of each event id. */
async function rawSubscriber(userIds: string[]): Promise<{ counts: Map<string, number>; close(): void }> {
  const redis = new Redis(TEST_REDIS_URL);
  const sharded = hasShardedPubSub(await redis.info('server'));
  const counts = new Map<string, number>();
  const count = (_channel: string, text: string) => {
    const { id } = JSON.parse(text) as { id: string };
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };
  redis.on('message', count);
  redis.on('smessage', count);
  const channels = userIds.map((u) => `carethread:users:${shardOf(u)}`);
  await (sharded ? redis.ssubscribe(...channels) : redis.subscribe(...channels));
  return { counts, close: () => redis.disconnect() };
}

describe('events between instances go to the instances that watch their recipients', () => {
  test('an instance hears the shards of the users it watches, and none other', async () => {
    if (redisMissing) return console.warn('Redis is missing: skipped');
    const [u1, u2] = users(2);
    const [a, b, publisher] = [await instance('a1'), await instance('b1'), await instance('p1')];
    a.bus.watch(u1);
    b.bus.watch(u2);
    // A PING follows the subscribe on the same connection: once answered, the subscribe took effect.
    await Promise.all([a.bus.ping(), b.bus.ping()]);

    for (const [name, user] of [['first', u1], ['second', u2], ['third', u1]] as const) expect(await publisher.bus.publish(eventFor(name, [user]))).toBe(true);
    // One publisher, one subscriber connection each: Redis keeps the order, so "second" came after "first".
    await until(() => a.heard.includes('third') && b.heard.includes('second'), 'both instances to hear');
    expect(a.heard).toEqual(['first', 'third']);
    expect(b.heard).toEqual(['second']);
  });

  test('an event reaches each instance with a recipient once, though it goes to every recipient shard', async () => {
    if (redisMissing) return console.warn('Redis is missing: skipped');
    const [u1, u2, u3] = users(3);
    const [a, b, publisher] = [await instance('a2'), await instance('b2'), await instance('p2')];
    a.bus.watch(u1);
    a.bus.watch(u3);
    b.bus.watch(u2);
    const raw = await rawSubscriber([u1, u3]);
    await Promise.all([a.bus.ping(), b.bus.ping()]);

    expect(await publisher.bus.publish(eventFor('together', [u1, u2, u3]))).toBe(true);
    expect(await publisher.bus.publish(eventFor('after', [u1, u2]))).toBe(true);
    await until(() => a.heard.includes('after') && b.heard.includes('after'), 'both instances to hear');
    raw.close();
    expect(raw.counts.get(`${run}-together`)).toBe(2);
    expect(a.heard).toEqual(['together', 'after']);
    expect(b.heard).toEqual(['together', 'after']);
  });

  test('after its subscriber connection is cut, an instance listens to its shards again', async () => {
    if (redisMissing) return console.warn('Redis is missing: skipped');
    const [u1] = users(1);
    const [b, publisher] = [await instance('b3'), await instance('p3')];
    b.bus.watch(u1);
    let reconnects = 0;
    b.bus.onReconnect(() => reconnects++);
    const admin = new Redis(TEST_REDIS_URL);
    const clients = String(await admin.client('LIST')).split('\n');
    const id = /\bid=(\d+)/.exec(clients.find((line) => line.includes(`name=carethread-sub-routing-b3-${run} `)) ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);
    admin.disconnect();
    await until(() => reconnects === 1 && b.bus.connected(), 'the reconnect');

    expect(await publisher.bus.publish(eventFor('back', [u1]))).toBe(true);
    await until(() => b.heard.includes('back'), 'the event after the reconnect');
  });

  test('LINGER_MS after its last watch of a shard is released, an instance no longer hears it', async () => {
    if (redisMissing) return console.warn('Redis is missing: skipped');
    const [gone, kept] = users(2);
    const [b, publisher] = [await instance('b4'), await instance('p4')];
    const release = b.bus.watch(gone);
    b.bus.watch(kept);
    await b.bus.ping();
    release();
    release();
    expect(await publisher.bus.publish(eventFor('lingering', [gone]))).toBe(true);
    await until(() => b.heard.includes('lingering'), 'the event while the shard lingers');

    await new Promise((resolve) => setTimeout(resolve, LINGER_MS + 200));
    expect(await publisher.bus.publish(eventFor('released', [gone]))).toBe(true);
    expect(await publisher.bus.publish(eventFor('kept', [kept]))).toBe(true);
    await until(() => b.heard.includes('kept'), 'the event of the watched shard');
    expect(b.heard).toEqual(['lingering', 'kept']);
  }, 20_000);
});
