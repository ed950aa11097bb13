import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Attachments: each upload (a message's file once attached), the stored
 * contents they name by SHA-256 (written once, shared by identical files),
 * and the contents' bytes in chunks for the database store.
 */
export class Attachments1773400000000 implements MigrationInterface {
  name = 'Attachments1773400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'timestamptz' : 'datetime';
    const sha256 = { name: 'sha256', type: 'varchar', length: '64' };
    await queryRunner.createTable(
      new Table({
        name: 'attachment_contents',
        columns: [{ ...sha256, isPrimary: true }, { name: 'size', type: 'integer' }, { name: 'touchedAt', type: timestamp }],
        indices: [{ name: 'IDX_attachment_contents_touched', columnNames: ['touchedAt'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'attachment_chunks',
        columns: [{ ...sha256, isPrimary: true }, { name: 'seq', type: 'integer', isPrimary: true }, { name: 'data', type: postgres ? 'bytea' : 'blob' }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'attachments',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'ownerId', type: 'varchar', length: '36' },
          sha256,
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'contentType', type: 'varchar', length: '64' },
          { name: 'size', type: 'integer' },
          { name: 'width', type: 'integer', isNullable: true },
          { name: 'height', type: 'integer', isNullable: true },
          { name: 'thumbnail', type: 'text', isNullable: true },
          { name: 'createdAt', type: timestamp },
          { name: 'threadId', type: 'varchar', length: '36', isNullable: true },
          { name: 'messageId', type: 'varchar', length: '36', isNullable: true },
          { name: 'position', type: 'integer', isNullable: true },
        ],
        indices: [
          { name: 'IDX_attachments_owner_created', columnNames: ['ownerId', 'createdAt'] },
          { name: 'IDX_attachments_message', columnNames: ['messageId'] },
          { name: 'IDX_attachments_sha256', columnNames: ['sha256'] },
          { name: 'IDX_attachments_unattached', columnNames: ['createdAt'], where: '"messageId" IS NULL' },
        ],
        foreignKeys: [
          { columnNames: ['ownerId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['threadId'], referencedTableName: 'threads', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['messageId'], referencedTableName: 'messages', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['attachments', 'attachment_chunks', 'attachment_contents']) await queryRunner.dropTable(table);
  }
}
