import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { LiveSessions } from '../src/live-sessions';
import { Presence } from '../src/live/presence';
import { createLogger } from '../src/logger';
import { until } from './support/live';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';

// Presence across instances through a real Redis: a notification is only for
// those connected nowhere. Each instance is a Presence of its own, with the
// connections of its LiveSessions given here.

const logger = createLogger('silent');
/** An instance's live connections: these users, one each. */
const connected = (...userIds: string[]) =>
  ({ count: (userId: string) => (userIds.includes(userId) ? 1 : 0), users: () => userIds.values(), onPresence: () => undefined }) as unknown as LiveSessions;

let redisMissing = false;
let redis: Redis;
const instances: Presence[] = [];
const instance = (sessions: LiveSessions, id = `presence-${randomUUID()}`) => {
  const presence = new Presence(sessions, TEST_REDIS_URL, id, logger);
  instances.push(presence);
  return presence;
};

beforeAll(async () => {
  redisMissing = !(await redisAnswers());
  if (!redisMissing) redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await Promise.all(instances.map((p) => p.close()));
  redis?.disconnect();
});

const skipped = () => {
  if (redisMissing) console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
  return redisMissing;
};

test('someone connected to another instance is live on this one; someone connected nowhere is not', async () => {
  if (skipped()) return;
  const [here, there, nowhere] = [randomUUID(), randomUUID(), randomUUID()];
  const a = instance(connected(here));
  const b = instance(connected(there));
  a.start();
  b.start();
  await until(async () => (await a.isLive(there)) && (await b.isLive(here)));
  expect(await a.isLive(here)).toBe(true);
  expect(await a.isLive(nowhere)).toBe(false);
  expect(await b.isLive(nowhere)).toBe(false);
});

test('a claim past its time, left by an instance that died, does not count, even while another instance keeps the key alive', async () => {
  if (skipped()) return;
  const userId = randomUUID();
  const key = `carethread:presence:${userId}`;
  // The dead instance's claim ended a second ago; the key itself lives on (another instance's claim on it also ended).
  await redis.hset(key, 'died', String(Date.now() - 1000), 'also-ended', String(Date.now() - 1));
  await redis.pexpire(key, 60_000);
  const b = instance(connected());
  expect(await b.isLive(userId)).toBe(false);
  // A claim still running counts.
  await redis.hset(key, 'alive', String(Date.now() + 60_000));
  expect(await b.isLive(userId)).toBe(true);
  await redis.del(key);
});
