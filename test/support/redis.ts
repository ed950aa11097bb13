import Redis from 'ioredis';

/** The Redis the multi-instance tests use. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; when CI=true it must (the test fails rather than being skipped). */
export async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    if (process.env.CI === 'true') throw new Error(`Redis at ${TEST_REDIS_URL} does not answer`);
    return false;
  } finally {
    redis.disconnect();
  }
}
