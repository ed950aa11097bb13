import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The transactional outbox: events written with the change that makes them, published after its commit (events/outbox.ts). */
export class Outbox1770000000000 implements MigrationInterface {
  name = 'Outbox1770000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'outbox_events',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'topic', type: 'varchar', length: '40' },
          { name: 'payload', type: 'text' },
          { name: 'createdAt', type: timestamp },
          { name: 'publishedAt', type: timestamp, isNullable: true },
        ],
        indices: [
          { name: 'IDX_outbox_events_created', columnNames: ['createdAt'] },
          { name: 'IDX_outbox_events_unpublished', columnNames: ['publishedAt', 'createdAt'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('outbox_events');
  }
}
