import type { DataSource } from 'typeorm';

/** Statements written so far, by data source, then by key. */
const written = new WeakMap<DataSource, Map<string, string>>();

/** Statements of one data source kept at most: keys vary with list lengths, which a bulk change can make many of. */
const MAX_STATEMENTS = 200;

/**
 * The SQL text named `key`, written by `write` the first time only. For the
 * statements every request runs (the sign-in check, a send's): TypeORM's query
 * builders write theirs again on each call, which cost more than running them.
 * The same text also finds the driver's prepared statement.
 */
export function statement(db: DataSource, key: string, write: () => string): string {
  let texts = written.get(db);
  if (!texts) written.set(db, (texts = new Map()));
  let sql = texts.get(key);
  if (sql === undefined) {
    sql = write();
    if (texts.size < MAX_STATEMENTS) texts.set(key, sql);
  }
  return sql;
}

/** The n-th (from 1) bound parameter's placeholder on this database. */
export const placeholder = (db: DataSource, n: number): string => (db.options.type === 'postgres' ? `$${n}` : '?');
