import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { Client } from 'pg';

/**
 * The machine's services for npm run test:scale. SCALE_POSTGRES_URL (default:
 * TEST_DATABASE_URL, then the local `test` database) is only used to create and
 * drop the run's own database; SCALE_REDIS_URL is the shared Redis.
 */
export const POSTGRES_ADMIN_URL = process.env.SCALE_POSTGRES_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.SCALE_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Set by the global setup: the run's database, or why the suite is skipped. */
export const RUN_ENV = {
  database: 'CARETHREAD_SCALE_DATABASE_URL',
  skip: 'CARETHREAD_SCALE_SKIP',
  pids: 'CARETHREAD_SCALE_PIDS',
  /** The run's compiled server (src/main.ts as JavaScript), under node_modules/.cache so that its imports resolve. */
  build: 'CARETHREAD_SCALE_BUILD',
} as const;

/** The URL of `base` pointing at another database on the same server. */
export function withDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Database names carry their creation time, so that a run killed before its teardown can be swept later. */
export function newDatabaseName(): string {
  return `carethread_scale_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
}

export const DATABASE_NAME = /^carethread_scale_(\d+)_[0-9a-f]{8}$/;

export function newSchemaName(label: string): string {
  return `${label.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

/** Connects, or rejects within `timeoutMs`. */
export async function pgClient(url: string, timeoutMs = 3000): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  await client.connect();
  return client;
}

/** Resolves when Redis answers PING within `timeoutMs`; rejects otherwise. */
export function pingRedis(url: string, timeoutMs = 3000): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port || 6379), hostname || '127.0.0.1');
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`Redis at ${url} did not answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`Redis at ${url} answered ${JSON.stringify(data.toString())} to PING`));
    });
  });
}
