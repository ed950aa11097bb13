import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server';

export const ADMIN = { email: 'admin@test.example', password: 'admin-password-1' };

export interface TestServer extends RunningServer {
  wsUrl: string;
}

/**
 * A real server on an ephemeral port with its own in-memory SQLite database
 * (or `env.DATABASE_URL`), quiet logs and a cheap password hash cost.
 */
export async function startTestServer(env: Record<string, string> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({
    DATABASE_URL: 'sqlite::memory:',
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
  return { ...server, wsUrl: server.url.replace(/^http/, 'ws') };
}
