import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import type { DatabaseConfig } from './config';
import { sqliteParameter } from './database/sqlite-integer';
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
    return new DataSource({ ...common, type: 'postgres', url: config.url, schema: config.schema, extra: { max: config.poolSize } });
  }
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  return bindingIntegers(new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: config.path,
    enableWAL: config.path !== ':memory:',
    // better-sqlite3 waits synchronously, so this blocks the process; only another process
    // (a backup, the sqlite3 shell) can hold a lock, since this one's transactions take turns.
    timeout: config.busyTimeoutMs,
  }));
}

/**
 * TypeORM's SQLite driver writes a number parameter into the statement's
 * text, so a statement with a number that varies (a message's seq, an audit
 * event's id, a flag stored as 0 or 1) is a new statement each time: prepared
 * again, and pushing the hot ones out of the driver's cache of 100 prepared
 * statements (first in, first out), until every statement of every request is
 * prepared again. Passed as a BigInt, an integer stays a bound parameter, and
 * SQLite gets the same INTEGER the literal was.
 */
function bindingIntegers(dataSource: DataSource): DataSource {
  const driver = dataSource.driver;
  const escape = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql, parameters) =>
    escape(sql, parameters && Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, sqliteParameter(value)])));
  return dataSource;
}
