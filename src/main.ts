import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startServer } from './server';

/** SIGTERM or SIGINT: exit 0 once closed, or exit 1 at this deadline. */
const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.jwtSecretIsRandom) logger.warn('JWT_SECRET is not set: using a random key, so tokens end with this process');
  const server = await startServer(config, { logger });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // Whatever hangs (a peer that never answers, a stuck query), the process ends in time.
    setTimeout(() => {
      logger.error({ signal, timeoutMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Only now: whoever waits for this line may stop the process at once, and must get a clean shutdown.
  logger.info({ url: server.url }, 'CareThread is listening');
}

main().catch((error) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('CareThread failed to start:', error);
  process.exit(1);
});
