import type { DataSource } from 'typeorm';

/** A table's name for raw SQL: schema-qualified on PostgreSQL, where the tables may live outside the search path. */
export function tablePath(owner: { connection: DataSource }, name: string): string {
  const schema = owner.connection.driver.options.type === 'postgres' ? (owner.connection.driver as { schema?: string }).schema : undefined;
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}
