import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { READINESS_CHECK_TIMEOUT_MS } from '../src/probes';
import { raw } from './support/http';
import { memoryLogger } from './support/logs';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';
import { startTestServer, type TestServer } from './support/server';

const probe = (server: TestServer, path: '/healthz' | '/readyz') => raw(server.url.replace(/\/graphql$/, path));

/** Starts a server, runs `check` on it, and closes it whatever happens. */
async function withServer(settings: Record<string, string>, check: (server: TestServer) => Promise<void>, options: Parameters<typeof startTestServer>[1] = {}): Promise<void> {
  const server = await startTestServer(settings, options);
  try {
    await check(server);
  } finally {
    await server.close();
  }
}

describe('/healthz is liveness: the process answers', () => {
  test('200 {"status":"ok"}, even with the database gone', async () => {
    const server = await startTestServer();
    try {
      expect(await probe(server, '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
      await server.app.db.destroy();
      expect(await probe(server, '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    } finally {
      await server.app.db.initialize(); // so that close() can close it again
      await server.close();
    }
  });
});

describe('/readyz is readiness: the dependencies answer', () => {
  test('200 with the database alone when REDIS_URL is not set', async () => {
    await withServer({}, async (server) => {
      const res = await probe(server, '/readyz');
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/application\/json/);
      expect(res.json).toEqual({ status: 'ready', checks: { database: 'ok' } });
    });
  });

  test('503 naming the database when it does not answer; the reason is logged, never sent', async () => {
    const { logger, lines } = memoryLogger();
    const server = await startTestServer({}, { logger });
    try {
      await server.app.db.destroy();
      const res = await probe(server, '/readyz');
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ status: 'unavailable', checks: { database: 'failed' } });
      const logged = lines.filter((l) => l.msg === 'readiness check failed');
      expect(logged.map((l) => [l.level, l.check])).toEqual([[40, 'database']]);
      expect(JSON.stringify(logged[0].err)).toMatch(/connection is not open|Driver not Connected|not established/i);
    } finally {
      await server.app.db.initialize();
      await server.close();
    }
  });

  test('with REDIS_URL: 200 with redis ok when every Redis connection answers', async () => {
    if (!(await redisAnswers())) return console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
    await withServer({ REDIS_URL: TEST_REDIS_URL }, async (server) => {
      const res = await probe(server, '/readyz');
      expect(res.json).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
      expect(res.status).toBe(200);
    });
  });

  test('with REDIS_URL on a port where nothing listens: the server starts (events stay local), /readyz is 503 naming redis', async () => {
    const { logger, lines } = memoryLogger();
    await withServer(
      { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
      async (server) => {
        const res = await probe(server, '/readyz');
        expect(res.status).toBe(503);
        expect(res.json).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'failed' } });
        expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|writeable/);
        expect(lines.some((l) => l.msg === 'readiness check failed' && l.check === 'redis')).toBe(true);
        expect((await probe(server, '/healthz')).status).toBe(200);
      },
      { logger },
    );
  });

  test('a Redis that stops answering on an open connection gives 503 within the check timeout, not a hung probe', async () => {
    if (!(await redisAnswers())) return console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
    const proxy = await stallingProxy(new URL(TEST_REDIS_URL));
    try {
      await withServer({ REDIS_URL: proxy.url }, async (server) => {
        expect((await probe(server, '/readyz')).json).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
        proxy.stall();
        const started = Date.now();
        const res = await probe(server, '/readyz');
        const took = Date.now() - started;
        expect(res.status).toBe(503);
        expect(res.json).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'failed' } });
        expect(took).toBeGreaterThanOrEqual(READINESS_CHECK_TIMEOUT_MS - 50);
        expect(took).toBeLessThan(READINESS_CHECK_TIMEOUT_MS + 1_500);
      });
    } finally {
      await proxy.close();
    }
  });

  test('503 "shutting down" once close() has begun, for a probe already in flight', async () => {
    let server: TestServer | undefined;
    let closing: Promise<void> | undefined;
    // The moment the probe's own `SELECT 1` runs, shutdown begins: the probe is then in flight, and drains.
    const queryLogger = {
      logQuery(query: string) {
        if (query === 'SELECT 1' && server && !closing) closing = server.close();
      },
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    } satisfies TypeOrmLogger;
    server = await startTestServer({}, { queryLogger });
    try {
      const res = await probe(server, '/readyz');
      expect(closing).toBeDefined();
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ status: 'shutting down' });
    } finally {
      await (closing ?? server.close());
    }
  });
});

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A TCP proxy to Redis that, once stalled, keeps every connection open but
 * forwards nothing more either way: Redis as seen through a network partition.
 */
async function stallingProxy(target: URL): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 6379), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!stalled) to.write(chunk);
      });
      from.on('error', () => undefined);
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stall: () => {
      stalled = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
