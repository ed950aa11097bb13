import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { searchKey } from '../common/text';
import { tablePath } from '../database/table-path';

const TABLES = ['users', 'teams'] as const;

/**
 * `searchName` (searchKey of the name) on users and teams, filled for existing rows, with indexes for the
 * recipient drop-down's search and order (see recipients.service.ts).
 */
export class SearchNames1772200000000 implements MigrationInterface {
  name = 'SearchNames1772200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [first, second] = postgres ? ['$1', '$2'] : ['?', '?'];
    for (const table of TABLES) {
      // On SQLite TypeORM rebuilds the table to add a column, with foreign keys off around pending migrations.
      await queryRunner.addColumn(table, new TableColumn({ name: 'searchName', type: 'text', default: "''" }));
      const rows: { id: string; name: string }[] = await queryRunner.query(`SELECT "id", "name" FROM ${tablePath(queryRunner, table)}`);
      for (const { id, name } of rows) {
        await queryRunner.query(`UPDATE ${tablePath(queryRunner, table)} SET "searchName" = ${first} WHERE "id" = ${second}`, [searchKey(name), id]);
      }
    }
    // name then id: the order of the drop-down, read from the index, so that it stops at `first`.
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_name', columnNames: ['name', 'id'] }));
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_search_name', columnNames: ['searchName'] }));
    await queryRunner.createIndex('teams', new TableIndex({ name: 'IDX_teams_search_name', columnNames: ['searchName'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of ['IDX_users_name', 'IDX_users_search_name']) await queryRunner.dropIndex('users', index);
    await queryRunner.dropIndex('teams', 'IDX_teams_search_name');
    // As in UserDisabled1765000000000: SQLite (3.35+) drops a column in place, where a rebuild would fail on foreign keys.
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE ${tablePath(queryRunner, table)} DROP COLUMN "searchName"`);
  }
}
