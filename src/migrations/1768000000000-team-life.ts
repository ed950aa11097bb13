import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Team life: professionals' absences (who is away, until when, and why, for
 * staff), and staff-only notes in a thread (messages patients never see).
 * Existing messages are all visible to every participant.
 */
export class TeamLife1768000000000 implements MigrationInterface {
  name = 'TeamLife1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.addColumn('messages', new TableColumn({ name: 'staffOnly', type: 'boolean', default: false }));
    await queryRunner.createTable(
      new Table({
        name: 'absences',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'startsAt', type: timestamp },
          { name: 'endsAt', type: timestamp },
          { name: 'reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'recordedById', type: 'varchar', length: '36' },
          { name: 'recordedAt', type: timestamp },
        ],
        indices: [{ name: 'IDX_absences_user_end', columnNames: ['userId', 'endsAt'] }],
        foreignKeys: [
          { columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['recordedById'], referencedTableName: 'users', referencedColumnNames: ['id'] },
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('absences');
    // As in UserDisabled: SQLite drops the column in place, where TypeORM's rebuild would trip on foreign keys.
    if (queryRunner.connection.driver.options.type === 'better-sqlite3') {
      await queryRunner.query('ALTER TABLE "messages" DROP COLUMN "staffOnly"');
    } else {
      await queryRunner.dropColumn('messages', 'staffOnly');
    }
  }
}
