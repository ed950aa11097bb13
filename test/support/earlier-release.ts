import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { createDataSource } from '../../src/data-source';
import type { SharedDatabase } from './shared-database';

/**
 * Leaves `database` as an earlier release would have: migrated by `migrations`
 * only, with a professional (`u-pro`, Old Pro) in an auto-CC team (`t-old`,
 * Old Team) and a patient (`u-pat`, Old Pat), then whatever `more` inserts
 * (`table` names a table for raw SQL). A server started on it next runs the
 * rest of the migrations.
 */
export async function earlierRelease(
  database: SharedDatabase,
  migrations: (new () => MigrationInterface)[],
  more: (db: DataSource, table: (name: string) => string, at: string) => Promise<void> = async () => {},
): Promise<void> {
  const postgres = database.config.type === 'postgres';
  const db = new DataSource({ ...createDataSource(database.config).options, entities: [], migrations } as DataSourceOptions);
  await db.initialize();
  try {
    if (postgres) await db.query(`CREATE SCHEMA "${database.schema}"`);
    await db.runMigrations({ transaction: 'all' });
    const table = (name: string) => (postgres ? `"${database.schema}"."${name}"` : `"${name}"`);
    const at = `'2025-01-01T00:00:00Z'`;
    await db.query(`INSERT INTO ${table('users')} ("id", "email", "name", "kind", "contactable", "isAdmin", "passwordHash", "createdAt")
      VALUES ('u-pro', 'pro@old.example', 'Old Pro', 'PROFESSIONAL', true, false, 'x', ${at}),
             ('u-pat', 'pat@old.example', 'Old Pat', 'PATIENT', false, false, 'x', ${at})`);
    await db.query(`INSERT INTO ${table('teams')} ("id", "name", "autoCc", "createdAt") VALUES ('t-old', 'Old Team', true, ${at})`);
    await db.query(`INSERT INTO ${table('team_members')} ("teamId", "userId", "addedAt") VALUES ('t-old', 'u-pro', ${at})`);
    await more(db, table, at);
  } finally {
    await db.destroy();
  }
}
