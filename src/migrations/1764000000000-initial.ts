import { Table, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

// Written with TypeORM's Table API rather than raw SQL so that one migration
// serves every supported database; only the timestamp type differs.
const id = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '36', isNullable: nullable });
const key = (name: string): TableColumnOptions => ({ ...id(name), isPrimary: true });
const int = (name: string): TableColumnOptions => ({ name, type: 'integer', default: 0 });
const bool = (name: string): TableColumnOptions => ({ name, type: 'boolean' });
const text = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const fk = (column: string, table: string, onDelete: 'CASCADE' | 'NO ACTION' = 'NO ACTION') => ({
  columnNames: [column],
  referencedTableName: table,
  referencedColumnNames: ['id'],
  onDelete,
});

export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestampType = queryRunner.connection.driver.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    const at = (name: string, nullable = false): TableColumnOptions => ({ name, type: timestampType, isNullable: nullable });
    const create = (table: Table) => queryRunner.createTable(table, false, true, true);

    await create(
      new Table({
        name: 'users',
        columns: [
          key('id'),
          { ...text('email', 254), isUnique: true },
          text('name', 200),
          text('kind', 16),
          bool('contactable'),
          bool('isAdmin'),
          text('passwordHash', 300),
          at('createdAt'),
        ],
      }),
    );
    await create(
      new Table({
        name: 'teams',
        columns: [key('id'), { ...text('name', 200), isUnique: true }, bool('autoCc'), at('createdAt')],
      }),
    );
    await create(
      new Table({
        name: 'team_members',
        columns: [key('teamId'), key('userId'), at('addedAt')],
        indices: [{ name: 'IDX_team_members_user', columnNames: ['userId'] }],
        foreignKeys: [fk('teamId', 'teams', 'CASCADE'), fk('userId', 'users', 'CASCADE')],
      }),
    );
    await create(
      new Table({
        name: 'team_shares',
        columns: [key('patientId'), key('teamId'), at('sharedAt')],
        indices: [{ name: 'IDX_team_shares_team', columnNames: ['teamId'] }],
        foreignKeys: [fk('patientId', 'users', 'CASCADE'), fk('teamId', 'teams', 'CASCADE')],
      }),
    );
    await create(
      new Table({
        name: 'professional_shares',
        columns: [key('patientId'), key('professionalId'), at('sharedAt')],
        indices: [{ name: 'IDX_professional_shares_professional', columnNames: ['professionalId'] }],
        foreignKeys: [fk('patientId', 'users', 'CASCADE'), fk('professionalId', 'users', 'CASCADE')],
      }),
    );
    await create(
      new Table({
        name: 'threads',
        columns: [key('id'), text('subject', 200), at('createdAt'), id('createdById'), at('lastActivityAt'), int('lastSeq')],
        indices: [{ name: 'IDX_threads_last_activity', columnNames: ['lastActivityAt'] }],
        foreignKeys: [fk('createdById', 'users')],
      }),
    );
    await create(
      new Table({
        name: 'participants',
        columns: [
          key('threadId'),
          key('userId'),
          at('joinedAt'),
          id('addedById', true),
          id('viaTeamId', true),
          at('lastReadAt', true),
          int('lastReadSeq'),
        ],
        indices: [{ name: 'IDX_participants_user', columnNames: ['userId'] }],
        foreignKeys: [
          fk('threadId', 'threads', 'CASCADE'),
          fk('userId', 'users'),
          fk('addedById', 'users'),
          fk('viaTeamId', 'teams'),
        ],
      }),
    );
    await create(
      new Table({
        name: 'thread_teams',
        columns: [key('threadId'), key('teamId'), at('addedAt')],
        foreignKeys: [fk('threadId', 'threads', 'CASCADE'), fk('teamId', 'teams')],
      }),
    );
    await create(
      new Table({
        name: 'messages',
        columns: [
          key('id'),
          id('threadId'),
          { name: 'seq', type: 'integer' },
          id('authorId'),
          { name: 'body', type: 'text' },
          at('createdAt'),
          text('clientMessageId', 100, true),
        ],
        uniques: [
          { name: 'UQ_messages_thread_seq', columnNames: ['threadId', 'seq'] },
          { name: 'UQ_messages_client_id', columnNames: ['threadId', 'authorId', 'clientMessageId'] },
        ],
        foreignKeys: [fk('threadId', 'threads', 'CASCADE'), fk('authorId', 'users')],
      }),
    );
    await create(
      new Table({
        name: 'audit_events',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          at('at'),
          id('actorId'),
          text('action', 40),
          id('threadId', true),
          id('messageId', true),
          id('subjectUserId', true),
          id('patientId', true),
          id('teamId', true),
        ],
        indices: [{ name: 'IDX_audit_events_thread', columnNames: ['threadId'] }],
        foreignKeys: [fk('actorId', 'users')],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'messages',
      'thread_teams',
      'participants',
      'threads',
      'professional_shares',
      'team_shares',
      'team_members',
      'teams',
      'users',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
