import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

// Adds the admin's "disabled" switch to accounts; existing accounts stay enabled.
export class UserDisabled1765000000000 implements MigrationInterface {
  name = 'UserDisabled1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // On SQLite TypeORM rebuilds the table to add a column. It turns foreign keys off
    // around pending migrations, so the rows that reference users are left as they are.
    await queryRunner.addColumn('users', new TableColumn({ name: 'disabled', type: 'boolean', default: false }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // A revert runs with foreign keys on, so TypeORM's rebuild would fail on SQLite as
    // soon as any row references a user; SQLite (3.35+) can drop the column in place.
    if (queryRunner.connection.driver.options.type === 'better-sqlite3') {
      await queryRunner.query('ALTER TABLE "users" DROP COLUMN "disabled"');
    } else {
      await queryRunner.dropColumn('users', 'disabled');
    }
  }
}
