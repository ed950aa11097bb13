import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * The entity whose columns a raw row holds as `<alias>_<column>` (how TypeORM names the columns of a
 * selected alias), converted as TypeORM would load it (SQLite's 0/1 to booleans, its text to Dates).
 * For a statement that returns several entities per row, which getMany cannot map without merging them.
 * `columns`: the ones the statement selected (all unless told; see api-columns.ts).
 */
export function hydrate<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  raw: Record<string, unknown>,
  alias: string,
  columns: readonly ColumnMetadata[] = m.connection.getMetadata(target).columns,
): T {
  const entity = m.connection.getMetadata(target).create() as T;
  for (const column of columns) {
    column.setEntityValue(entity, m.connection.driver.prepareHydratedValue(raw[`${alias}_${column.databaseName}`], column));
  }
  return entity;
}

/** The select list that hydrate reads back: every column of the entity as `<alias>_<column>`. */
export function selectList(m: EntityManager, target: EntityTarget<ObjectLiteral>, alias: string): string {
  return m.connection
    .getMetadata(target)
    .columns.map((column) => `"${alias}"."${column.databaseName}" AS "${alias}_${column.databaseName}"`)
    .join(', ');
}
