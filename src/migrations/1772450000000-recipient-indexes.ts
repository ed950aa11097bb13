import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Covering indexes for the recipient drop-down (recipient-offer.ts), so that its conditions on a user are
 * read from an index rather than the table. IDX_users_offer replaces IDX_users_name (name, id): the people
 * are read in that order, and a search that matches few of them tests each name's searchName in the
 * index. IDX_users_reach: the member lookups by id (who a team reaches, who picking it would add, who of
 * its members matches the search, and the members' columns that the answer shows).
 */
export class RecipientIndexes1772450000000 implements MigrationInterface {
  name = 'RecipientIndexes1772450000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('users', 'IDX_users_name');
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_offer', columnNames: ['name', 'id', 'searchName', 'kind', 'contactable', 'disabled'] }));
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_reach', columnNames: ['id', 'kind', 'contactable', 'disabled', 'searchName', 'name', 'isAdmin'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of ['IDX_users_reach', 'IDX_users_offer']) await queryRunner.dropIndex('users', index);
    await queryRunner.createIndex('users', new TableIndex({ name: 'IDX_users_name', columnNames: ['name', 'id'] }));
  }
}
