import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { sqliteParameter } from './sqlite-integer';
import { placeholder, statement } from './statements';
import { tablePath } from './table-path';

/**
 * Inserts `rows` of an entity in one statement, as TypeORM's insert would
 * store them (its transformers, then the driver's own conversion: SQLite's
 * 0/1 and date text), the columns those of the first row that are not
 * undefined (the others take their defaults); its text is written once per
 * table, columns and row count (statements.ts). `returning` names a column to
 * read back, e.g. a generated id. `existing: 'keep'` skips rows whose key is
 * taken (ON CONFLICT DO NOTHING) instead of failing.
 */
export async function insertRows<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  rows: Partial<T>[],
  returning?: keyof T & string,
  existing: 'fail' | 'keep' = 'fail',
): Promise<unknown[]> {
  if (!rows.length) return [];
  const runner = m.queryRunner;
  if (!runner) throw new Error('insertRows runs inside a transaction');
  const metadata = m.connection.getMetadata(target);
  const driver = m.connection.driver;
  const columns = metadata.columns.filter((column) => column.getEntityValue(rows[0], true) !== undefined);
  const sqlite = driver.options.type !== 'postgres';
  const stored = sqlite ? sqliteParameter : (value: unknown) => value;
  const parameters = rows.flatMap((row) => columns.map((column) => stored(driver.preparePersistentValue(column.getEntityValue(row, true), column))));
  const key = `insert ${metadata.tableName} (${columns.map((c) => c.databaseName).join(',')}) x${rows.length} ${returning ?? ''} ${existing}`;
  const sql = statement(m.connection, key, () => insertSql(m, tablePath(m, metadata.tableName), columns, rows.length, returning && metadata.findColumnWithPropertyName(returning)!, existing));
  const { records } = await runner.query(sql, parameters, true);
  return returning ? (records as Record<string, unknown>[]).map((row) => Object.values(row)[0]) : [];
}

function insertSql(m: EntityManager, table: string, columns: ColumnMetadata[], rowCount: number, returning: ColumnMetadata | undefined, existing: 'fail' | 'keep'): string {
  let n = 0;
  const values = Array.from({ length: rowCount }, () => `(${columns.map(() => placeholder(m.connection, ++n)).join(', ')})`);
  const names = columns.map((c) => `"${c.databaseName}"`).join(', ');
  const keep = existing === 'keep' ? ' ON CONFLICT DO NOTHING' : '';
  return `INSERT INTO ${table} (${names}) VALUES ${values.join(', ')}${keep}${returning ? ` RETURNING "${returning.databaseName}"` : ''}`;
}
