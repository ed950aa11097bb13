import { Table, TableColumn, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { newId } from '../common/ids';
import { tablePath } from '../database/table-path';

/** The organisation every existing professional and team moves into. */
export const DEFAULT_ORGANISATION_NAME = 'Default organisation';

/**
 * Organisations: every professional and every team belongs to one; patients
 * to none, but each remembers the organisation that registered them. What a
 * database held before moves into one organisation, with automatic CC allowed
 * (its teams may have it on already). A team's name is used once per
 * organisation. `isPlatformAdmin` starts false for everyone: the start-up
 * admin (ADMIN_EMAIL) gets it at start (UserService.ensureAdmin).
 */
export class Organisations1773000000000 implements MigrationInterface {
  name = 'Organisations1773000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamptz' : 'datetime';
    const p = (n: number) => (postgres ? `$${n}` : '?');
    await queryRunner.createTable(
      new Table({
        name: 'organisations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200', isUnique: true },
          { name: 'autoCcAllowed', type: 'boolean', default: false },
          { name: 'createdAt', type: timestamp },
        ],
      }),
      false,
      true,
      true,
    );
    const id = newId();
    await queryRunner.query(
      `INSERT INTO ${tablePath(queryRunner, 'organisations')} ("id", "name", "autoCcAllowed", "createdAt") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
      // SQLite: a flag as 0 or 1, a time as TypeORM writes it (UTC, "YYYY-MM-DD HH:MM:SS.SSS").
      [id, DEFAULT_ORGANISATION_NAME, postgres ? true : 1, postgres ? new Date() : new Date().toISOString().replace('T', ' ').replace('Z', '')],
    );

    // On SQLite TypeORM rebuilds a table to add a column, with foreign keys off around pending migrations.
    await queryRunner.addColumns('users', [
      new TableColumn({ name: 'organisationId', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'registeredByOrganisationId', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'isPlatformAdmin', type: 'boolean', default: false }),
    ]);
    await queryRunner.query(`UPDATE ${tablePath(queryRunner, 'users')} SET "organisationId" = ${p(1)} WHERE "kind" = 'PROFESSIONAL'`, [id]);
    await queryRunner.query(`UPDATE ${tablePath(queryRunner, 'users')} SET "registeredByOrganisationId" = ${p(1)} WHERE "kind" = 'PATIENT'`, [id]);
    for (const column of ['organisationId', 'registeredByOrganisationId']) {
      await queryRunner.createForeignKey('users', new TableForeignKey({ columnNames: [column], referencedTableName: 'organisations', referencedColumnNames: ['id'] }));
    }
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_organisation', columnNames: ['organisationId'] }));

    // Added empty, filled, then required: a team always belongs to one.
    await queryRunner.addColumn('teams', new TableColumn({ name: 'organisationId', type: 'varchar', length: '36', isNullable: true }));
    await queryRunner.query(`UPDATE ${tablePath(queryRunner, 'teams')} SET "organisationId" = ${p(1)}`, [id]);
    await queryRunner.changeColumn('teams', 'organisationId', new TableColumn({ name: 'organisationId', type: 'varchar', length: '36', isNullable: false }));
    await queryRunner.createForeignKey('teams', new TableForeignKey({ columnNames: ['organisationId'], referencedTableName: 'organisations', referencedColumnNames: ['id'] }));
    const teams = await queryRunner.getTable('teams');
    await queryRunner.dropUniqueConstraint(teams!, teams!.uniques.find((u) => u.columnNames.length === 1 && u.columnNames[0] === 'name')!);
    await queryRunner.createIndex('teams', new TableIndex({ name: 'UQ_teams_organisation_name', columnNames: ['organisationId', 'name'], isUnique: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // SQLite drops a column in place only when no foreign key names it, and rebuilding `users` trips on
    // every row that refers to a user (see UserDisabled1765000000000).
    if (queryRunner.connection.driver.options.type !== 'postgres') throw new Error('Organisations1773000000000 cannot be undone on SQLite: restore the copy taken before the upgrade');
    await queryRunner.dropIndex('teams', 'UQ_teams_organisation_name');
    await queryRunner.dropColumn('teams', 'organisationId');
    await queryRunner.query(`ALTER TABLE ${tablePath(queryRunner, 'teams')} ADD CONSTRAINT "UQ_teams_name" UNIQUE ("name")`);
    await queryRunner.dropColumns('users', ['organisationId', 'registeredByOrganisationId', 'isPlatformAdmin']);
    await queryRunner.dropTable('organisations');
  }
}
