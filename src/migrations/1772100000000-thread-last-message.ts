import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath } from '../database/table-path';

/**
 * threads.lastMessageAt: the time of the newest message, staff-only notes
 * included (lastActivityAt leaves those out). A send reads and moves it in the
 * one statement that numbers its message, so that a message never gets an
 * earlier time than the one before it, whatever order the senders' clocks were
 * read in. Existing threads take their newest message's time.
 */
export class ThreadLastMessage1772100000000 implements MigrationInterface {
  name = 'ThreadLastMessage1772100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    // As in UserDisabled: on SQLite TypeORM rebuilds the table, with foreign keys off around pending migrations.
    await queryRunner.addColumn('threads', new TableColumn({ name: 'lastMessageAt', type: timestamp, isNullable: true }));
    const [threads, messages] = ['threads', 'messages'].map((t) => tablePath(queryRunner, t));
    await queryRunner.query(
      `UPDATE ${threads} SET "lastMessageAt" = COALESCE((SELECT MAX(m."createdAt") FROM ${messages} m WHERE m."threadId" = ${threads}."id"), "lastActivityAt")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // As in ExternalIdentity: SQLite drops the column in place, where TypeORM's rebuild would trip on foreign keys.
    if (queryRunner.connection.driver.options.type === 'better-sqlite3') await queryRunner.query('ALTER TABLE "threads" DROP COLUMN "lastMessageAt"');
    else await queryRunner.dropColumn('threads', 'lastMessageAt');
  }
}
