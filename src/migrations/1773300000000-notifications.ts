import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Notifications: each account's settings, its browsers' push subscriptions,
 * the schedule (one row per recipient and thread), and the channel a
 * NOTIFICATION_SENT audit event went by.
 */
export class Notifications1773300000000 implements MigrationInterface {
  name = 'Notifications1773300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
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
          { name: 'p256dh', type: 'varchar', length: '100' },
          { name: 'auth', type: 'varchar', length: '50' },
          { name: 'createdAt', type: timestamp },
        ],
        indices: [{ name: 'IDX_push_subscriptions_user', columnNames: ['userId'] }],
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
    await queryRunner.addColumn('audit_events', new TableColumn({ name: 'channel', type: 'varchar', length: '16', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('audit_events', 'channel');
    for (const table of ['notifications', 'push_subscriptions', 'notification_settings']) await queryRunner.dropTable(table);
  }
}
