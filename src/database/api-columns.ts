import { getMetadataStorage } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

const known = new Map<Function, ColumnMetadata[]>();

/**
 * The columns of an entity that the API shows: those whose property is a type-graphql @Field of the
 * entity's class, and the `xId` column behind a field resolver `x` of its type (Team.organisation
 * reads organisationId). Enough to load an entity that goes nowhere but into an answer, where every
 * other column would only be read, converted and dropped.
 */
export function apiColumns(m: EntityManager, target: Function): ColumnMetadata[] {
  let columns = known.get(target);
  if (!columns) {
    const storage = getMetadataStorage();
    const fields = new Set(storage.fields.filter((f) => f.target === target).map((f) => f.name));
    const resolved = new Set(storage.fieldResolvers.filter((r) => r.getObjectType?.() === target).map((r) => `${r.schemaName}Id`));
    columns = m.connection.getMetadata(target).columns.filter((c) => fields.has(c.propertyName) || resolved.has(c.propertyName));
    known.set(target, columns);
  }
  return columns;
}

/** `alias`'s API columns, as a query builder selects them. */
export const apiSelection = (m: EntityManager, target: Function, alias: string) => apiColumns(m, target).map((c) => `${alias}.${c.propertyName}`);
