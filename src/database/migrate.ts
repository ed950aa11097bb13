import type { DataSource } from 'typeorm';

// Any fixed number: every CareThread instance takes the same advisory lock.
const MIGRATION_LOCK = 7_318_224_001;

/**
 * Runs pending migrations in one transaction. On PostgreSQL, instances that
 * start together take turns on an advisory lock, so each migration runs once;
 * the schema named in the configuration is created first if missing.
 */
export async function migrate(db: DataSource): Promise<void> {
  if (db.options.type !== 'postgres') {
    await db.runMigrations({ transaction: 'all' });
    return;
  }
  const lock = db.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    if (db.options.schema) await lock.query(`CREATE SCHEMA IF NOT EXISTS "${db.options.schema}"`);
    await db.runMigrations({ transaction: 'all' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}
