import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Sign-in sessions: each token `login` hands out names one, and a token whose
 * session is gone is refused. Tokens issued before this name none, so their
 * holders sign in again.
 */
export class Sessions1771000000000 implements MigrationInterface {
  name = 'Sessions1771000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'createdAt', type: timestamp },
          { name: 'expiresAt', type: timestamp },
        ],
        indices: [{ name: 'IDX_sessions_user', columnNames: ['userId', 'expiresAt'] }],
        foreignKeys: [{ columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sessions');
  }
}
