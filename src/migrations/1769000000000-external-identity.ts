import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * External identity: the identity-provider subject a staff account signs in
 * as (OIDC), scoped to its issuer. Existing accounts are linked on their first
 * sign-in through the provider.
 */
export class ExternalIdentity1769000000000 implements MigrationInterface {
  name = 'ExternalIdentity1769000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // As in UserDisabled: on SQLite TypeORM rebuilds the table, with foreign keys off around pending migrations.
    await queryRunner.addColumns('users', [
      new TableColumn({ name: 'externalIssuer', type: 'varchar', length: '300', isNullable: true }),
      new TableColumn({ name: 'externalSubject', type: 'varchar', length: '255', isNullable: true }),
    ]);
    // Unlinked accounts hold NULLs, which a unique index never compares equal, on both databases.
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_external_identity', columnNames: ['externalIssuer', 'externalSubject'], isUnique: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('users', 'IDX_users_external_identity');
    // As in UserDisabled: SQLite drops the columns in place, where TypeORM's rebuild would trip on foreign keys.
    if (queryRunner.connection.driver.options.type === 'better-sqlite3') {
      await queryRunner.query('ALTER TABLE "users" DROP COLUMN "externalSubject"');
      await queryRunner.query('ALTER TABLE "users" DROP COLUMN "externalIssuer"');
    } else {
      await queryRunner.dropColumns('users', ['externalSubject', 'externalIssuer']);
    }
  }
}
