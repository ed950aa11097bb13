import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath } from '../database/table-path';

const ADDED: Record<string, (timestamp: string) => TableColumn[]> = {
  teams: () => [
    new TableColumn({ name: 'waitingLimitMinutes', type: 'integer', isNullable: true }),
    new TableColumn({ name: 'minimumContactable', type: 'integer', default: 2 }),
  ],
  threads: (timestamp) => [new TableColumn({ name: 'waitingSince', type: timestamp, isNullable: true })],
  thread_teams: (timestamp) => [
    new TableColumn({ name: 'status', type: 'varchar', length: '8', default: "'OPEN'" }),
    new TableColumn({ name: 'assigneeId', type: 'varchar', length: '36', isNullable: true }),
    new TableColumn({ name: 'assignedAt', type: timestamp, isNullable: true }),
    new TableColumn({ name: 'doneAt', type: timestamp, isNullable: true }),
    new TableColumn({ name: 'doneById', type: 'varchar', length: '36', isNullable: true }),
    new TableColumn({ name: 'escalationDueAt', type: timestamp, isNullable: true }),
    new TableColumn({ name: 'escalatedAt', type: timestamp, isNullable: true }),
    new TableColumn({ name: 'escalatedWaitingSince', type: timestamp, isNullable: true }),
  ],
  messages: (timestamp) => [new TableColumn({ name: 'readByCareTeamAt', type: timestamp, isNullable: true })],
};

/**
 * The team inbox: per team, a thread's status, assignee and escalation
 * schedule; per thread, since when a patient has been waiting; per team, its
 * waiting limit and coverage minimum; per message, when the care team first
 * read it. Existing threads get their waiting time from their messages, and
 * existing messages the earliest read mark of a professional that covers
 * them (when it was first read is not known for older reads: this is the
 * latest it can have been).
 */
export class TeamInbox1767000000000 implements MigrationInterface {
  name = 'TeamInbox1767000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    for (const [table, columns] of Object.entries(ADDED)) await queryRunner.addColumns(table, columns(timestamp));
    await queryRunner.createIndex('thread_teams', new TableIndex({ name: 'IDX_thread_teams_team', columnNames: ['teamId', 'status'] }));
    await queryRunner.createIndex('thread_teams', new TableIndex({ name: 'IDX_thread_teams_escalation_due', columnNames: ['escalationDueAt'] }));
    await queryRunner.createIndex('threads', new TableIndex({ name: 'IDX_threads_waiting_since', columnNames: ['waitingSince'] }));

    const [threads, messages, users, participants] = ['threads', 'messages', 'users', 'participants'].map((t) => tablePath(queryRunner, t));
    const lastBy = (kind: string, alias: string) =>
      `SELECT MAX(${alias}."seq") FROM ${messages} ${alias} JOIN ${users} ${alias}u ON ${alias}u."id" = ${alias}."authorId" WHERE ${alias}."threadId" = ${threads}."id" AND ${alias}u."kind" = '${kind}'`;
    await queryRunner.query(
      `UPDATE ${threads} SET "waitingSince" = (SELECT MIN(w."createdAt") FROM ${messages} w JOIN ${users} wu ON wu."id" = w."authorId"
        WHERE w."threadId" = ${threads}."id" AND wu."kind" = 'PATIENT' AND w."seq" > COALESCE((${lastBy('PROFESSIONAL', 'r')}), 0))`,
    );
    await queryRunner.query(
      `UPDATE ${messages} SET "readByCareTeamAt" = (SELECT MIN(p."lastReadAt") FROM ${participants} p JOIN ${users} pu ON pu."id" = p."userId"
        WHERE p."threadId" = ${messages}."threadId" AND pu."kind" = 'PROFESSIONAL' AND p."userId" <> ${messages}."authorId" AND p."lastReadSeq" >= ${messages}."seq")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('threads', 'IDX_threads_waiting_since');
    await queryRunner.dropIndex('thread_teams', 'IDX_thread_teams_escalation_due');
    await queryRunner.dropIndex('thread_teams', 'IDX_thread_teams_team');
    // As in UserDisabled: SQLite drops columns in place, where TypeORM's rebuild would trip on foreign keys.
    for (const [table, columns] of Object.entries(ADDED)) {
      for (const column of columns('')) await queryRunner.query(`ALTER TABLE ${tablePath(queryRunner, table)} DROP COLUMN "${column.name}"`);
    }
  }
}
