import { existsSync } from 'node:fs';
import { DataSource, MigrationExecutor } from 'typeorm';
import { ConfigError, loadConfig, type Config, type DatabaseConfig } from '../config';
import { createDataSource } from '../data-source';

/** The command did nothing: a bad option or setting, the database unreachable or not migrated (exit 2). */
export class CommandRefused extends Error {}

/**
 * The database the server is configured with (DATABASE_URL, DATABASE_SCHEMA),
 * opened to read the audit trail: migrated already (nothing is created or
 * migrated here), and SQLite read-only. `what` completes the messages, e.g.
 * "verify". CommandRefused when it cannot be used.
 */
export async function openAuditDatabase(what: string): Promise<DataSource> {
  const db = openable(databaseConfig(what));
  try {
    await db.initialize();
  } catch (error) {
    throw new CommandRefused(`cannot open the database: ${(error as Error).message}`);
  }
  try {
    await refuseUnmigrated(db, what);
    return db;
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** The server's settings; JWT_SECRET is not needed here, so production does not demand it. CommandRefused when one is bad. */
export function commandConfig(): Config {
  try {
    return loadConfig({ ...process.env, NODE_ENV: 'development' });
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandRefused(error.message.replace(/\s*\n\s*/g, ' '));
    throw error;
  }
}

function databaseConfig(what: string): DatabaseConfig {
  const { database } = commandConfig();
  if (database.type === 'sqlite') {
    // Opening a missing file would create an empty database there.
    if (database.path === ':memory:') throw new CommandRefused(`DATABASE_URL is sqlite::memory:, which holds no audit trail to ${what}`);
    if (!existsSync(database.path)) throw new CommandRefused(`no database file at ${database.path} (DATABASE_URL)`);
  }
  return database;
}

/** SQLite read-only: reading the trail never writes, not even the journal mode of a file given by mistake. */
function openable(database: DatabaseConfig): DataSource {
  const db = createDataSource(database);
  if (db.options.type !== 'better-sqlite3') return db;
  return new DataSource({ ...db.options, readonly: true, fileMustExist: true, enableWAL: false });
}

/** CommandRefused unless every migration ran. Reads the migrations table only: unlike db.showMigrations(), creates nothing. */
export async function refuseUnmigrated(db: DataSource, what: string): Promise<void> {
  const pending = await new MigrationExecutor(db).getPendingMigrations();
  if (!pending.length) return;
  const where = db.options.type === 'postgres' ? ` (schema ${db.driver.schema ?? 'public'})` : '';
  throw new CommandRefused(
    pending.length === db.migrations.length
      ? `the database${where} has no CareThread tables: check DATABASE_URL and DATABASE_SCHEMA`
      : `the database${where} is not migrated (${pending.map((m) => m.name).join(', ')} pending): start the server once to migrate it, then ${what}`,
  );
}
