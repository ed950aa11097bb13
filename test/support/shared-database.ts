import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config';
import { dropSchema, TEST_POSTGRES_URL } from './server';

export interface SharedDatabase {
  /** Random hex that tells this database from others, e.g. for INSTANCE_IDs. */
  tag: string;
  /** The PostgreSQL schema, `test_<tag>` (named on SQLite too, where nothing uses it). */
  schema: string;
  /** The SQLite file, `carethread-<label>-<tag>.sqlite` in the temp directory (named on PostgreSQL too, where nothing uses it). */
  file: string;
  /** DATABASE_URL (and DATABASE_SCHEMA) for startTestServer or startChildServer. */
  env: Record<string, string>;
  /** The database as a server's config describes it, for a DataSource of the test's own (createDataSource). */
  config: DatabaseConfig;
  /** Drops the schema (on PostgreSQL) and removes the file with its -wal and -shm; fine when they were never created. */
  drop(): Promise<void>;
}

/**
 * A database several servers of one test share, as instances behind a load
 * balancer do: a new schema under TEST_DATABASE_URL when `kind` is 'postgres'
 * (the default when TEST_DATABASE_URL is set), otherwise an SQLite file in the
 * temp directory. Nothing is created here: the first server's migrations do
 * that. `drop` removes it; call it once every server on it has closed.
 * Throws when `kind` is 'postgres' and TEST_DATABASE_URL is not set.
 */
export function sharedDatabase(label: string, kind: 'sqlite' | 'postgres' = TEST_POSTGRES_URL ? 'postgres' : 'sqlite'): SharedDatabase {
  const postgres = kind === 'postgres' ? TEST_POSTGRES_URL : null;
  if (kind === 'postgres' && !postgres) throw new Error('a shared PostgreSQL database needs TEST_DATABASE_URL');
  const tag = randomBytes(6).toString('hex');
  const schema = `test_${tag}`;
  const file = join(tmpdir(), `carethread-${label}-${tag}.sqlite`);
  return {
    tag,
    schema,
    file,
    env: postgres ? { DATABASE_URL: postgres, DATABASE_SCHEMA: schema } : { DATABASE_URL: `sqlite:${file}` },
    // The server's defaults: 10 connections (DATABASE_POOL_SIZE), 5 s of SQLITE_BUSY_TIMEOUT_MS.
    config: postgres ? { type: 'postgres', url: postgres, schema, poolSize: 10 } : { type: 'sqlite', path: file, busyTimeoutMs: 5_000 },
    drop: async () => {
      if (postgres) await dropSchema(postgres, schema);
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    },
  };
}
