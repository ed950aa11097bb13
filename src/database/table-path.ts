import type { QueryRunner } from 'typeorm';

/** A table's name for raw SQL: schema-qualified on PostgreSQL, where the tables may live outside the search path. */
export function tablePath(queryRunner: QueryRunner, name: string): string {
  const schema = queryRunner.connection.driver.options.type === 'postgres' ? (queryRunner.connection.driver as { schema?: string }).schema : undefined;
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}
