import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server';

export const ADMIN = { email: 'admin@test.example', password: 'admin-password-1' };

/** Set (e.g. by `npm run test:pg`) to run the suite on PostgreSQL, one fresh schema per server. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? null;

export interface TestServer extends RunningServer {
  wsUrl: string;
  /** DATABASE_URL (and DATABASE_SCHEMA) that reach this server's database from another process, e.g. a CLI; null for in-memory SQLite. */
  databaseEnv: Record<string, string> | null;
}

/**
 * A real server on an ephemeral port with its own empty database: in-memory
 * SQLite, or a new PostgreSQL schema (dropped on close) when TEST_DATABASE_URL
 * is set. Quiet logs and a cheap password hash cost. `env` overrides any setting.
 */
export async function startTestServer(env: Record<string, string> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const schema = TEST_POSTGRES_URL && !env.DATABASE_URL ? `test_${randomBytes(6).toString('hex')}` : null;
  const config = loadConfig({
    DATABASE_URL: 'sqlite::memory:',
    ...(schema ? { DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: schema } : {}),
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    PASSWORD_HASH_COST: '10',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config, { logger: createLogger(config.logLevel), ...options });
  const close = async () => {
    await server.close();
    if (schema) await dropSchema(TEST_POSTGRES_URL!, schema);
  };
  const db = config.database;
  const databaseEnv =
    db.type === 'postgres'
      ? { DATABASE_URL: db.url, ...(db.schema ? { DATABASE_SCHEMA: db.schema } : {}) }
      : db.path === ':memory:'
        ? null
        : { DATABASE_URL: `sqlite:${db.path}` };
  return { ...server, close, wsUrl: server.url.replace(/^http/, 'ws'), databaseEnv };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
