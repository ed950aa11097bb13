import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer, type ServerOptions } from '../src/server';
import { SERVER_SETTINGS } from './api';

/** A CareThread server in the bench's own process, for the scenarios that time requests rather than server CPU. `options`: startServer's (a queryLogger). */
export async function startInProcess(database: Record<string, string> = { DATABASE_URL: 'sqlite::memory:' }, options: ServerOptions = {}): Promise<RunningServer> {
  const config = loadConfig({
    ...database,
    ...SERVER_SETTINGS,
    LOG_LEVEL: 'silent',
  });
  return startServer(config, { logger: createLogger('silent'), ...options });
}
