import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import type { DatabaseConfig } from './config';
import { entities, migrations } from './tables';

/**
 * The TypeORM DataSource for a configuration. Nothing connects until
 * `initialize()`. Schema changes come from migrations only; `synchronize` is never on.
 * `queryLogger` receives every statement (tests count them).
 */
export function createDataSource(config: DatabaseConfig, queryLogger?: TypeOrmLogger): DataSource {
  const common = {
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    logger: queryLogger,
    logging: queryLogger ? ['query' as const] : false,
    // `findOneBy({ id: undefined })` would otherwise match any row: one patient could read another's.
    invalidWhereValuesBehavior: { null: 'throw', undefined: 'throw' } as const,
  };
  if (config.type === 'postgres') {
    return new DataSource({ ...common, type: 'postgres', url: config.url, schema: config.schema, extra: { max: 10 } });
  }
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: config.path,
    enableWAL: config.path !== ':memory:',
    // better-sqlite3 waits synchronously, so this blocks the process; only another process
    // (a backup, the sqlite3 shell) can hold a lock, since this one's transactions take turns.
    timeout: config.busyTimeoutMs,
  });
}
