import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath as path } from '../database/table-path';
import { sealOnlyUpdatesOnSqlite } from './1773100000000-audit-organisations';

/**
 * Notifications: each account's settings, its browsers' push subscriptions,
 * the schedule (one row per recipient and thread), and the channel a
 * NOTIFICATION_SENT audit event went by.
 */
export class Notifications1773300000000 implements MigrationInterface {
  name = 'Notifications1773300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamptz' : 'datetime';
    const user = { name: 'userId', type: 'varchar', length: '36', isPrimary: true };
    const ofUser = { columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' };
    await queryRunner.createTable(
      new Table({
        name: 'notification_settings',
        columns: [
          user,
          { name: 'email', type: 'boolean' },
          { name: 'push', type: 'boolean' },
          { name: 'delayMinutes', type: 'integer' },
          { name: 'quietStart', type: 'varchar', length: '5', isNullable: true },
          { name: 'quietEnd', type: 'varchar', length: '5', isNullable: true },
          { name: 'timeZone', type: 'varchar', length: '64', isNullable: true },
        ],
        foreignKeys: [ofUser],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'push_subscriptions',
        columns: [
          { name: 'endpoint', type: 'varchar', length: '1000', isPrimary: true },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'sessionId', type: 'varchar', length: '36', isNullable: true },
          { name: 'p256dh', type: 'varchar', length: '100' },
          { name: 'auth', type: 'varchar', length: '50' },
          { name: 'createdAt', type: timestamp },
        ],
        indices: [
          { name: 'IDX_push_subscriptions_user', columnNames: ['userId'] },
          { name: 'IDX_push_subscriptions_session', columnNames: ['sessionId'] },
        ],
        foreignKeys: [ofUser],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'notifications',
        columns: [
          user,
          { name: 'threadId', type: 'varchar', length: '36', isPrimary: true },
          { name: 'stage', type: 'varchar', length: '16' },
          { name: 'dueAt', type: timestamp },
          { name: 'seq', type: 'integer' },
          { name: 'notifiedAt', type: timestamp, isNullable: true },
          { name: 'attempts', type: 'integer' },
          { name: 'leaseId', type: 'varchar', length: '36', isNullable: true },
          { name: 'leaseUntil', type: timestamp, isNullable: true },
          { name: 'emailSentAt', type: timestamp, isNullable: true },
          { name: 'pushSentAt', type: timestamp, isNullable: true },
        ],
        indices: [{ name: 'IDX_notifications_due', columnNames: ['dueAt'] }],
        foreignKeys: [ofUser, { columnNames: ['threadId'], referencedTableName: 'threads', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    // Raw: TypeORM adds a column on SQLite by copying the table, which would lose its append-only triggers.
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} ADD COLUMN "channel" varchar(16)`);
    // SQLite's seal-only trigger names every column it keeps unchanged: made again with the new one.
    // (PostgreSQL's compares whole rows.)
    if (postgres) return;
    await queryRunner.query(`DROP TRIGGER "audit_events_no_update"`);
    await sealOnlyUpdatesOnSqlite(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    if (!postgres) await queryRunner.query(`DROP TRIGGER "audit_events_no_update"`);
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} DROP COLUMN "channel"`);
    if (!postgres) await sealOnlyUpdatesOnSqlite(queryRunner);
    for (const table of ['notifications', 'push_subscriptions', 'notification_settings']) await queryRunner.dropTable(table);
  }
}
