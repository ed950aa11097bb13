import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath as path } from '../database/table-path';

const REFUSAL = 'audit events are append-only';
const LINKS = 'audit_organisation_links';

/**
 * Each organisation's own audit chain, so that it can verify its log without
 * anyone else's events: `audit_organisation_links` chains the organisation's
 * events (their hashes) in chain order, and `audit_checkpoints` gains
 * `organisationId` for the signed heads of those chains. Append-only like the
 * rest of the audit. The sealer links the events sealed before this
 * migration on its first rounds after it.
 */
export class AuditOrganisationChains1773200000000 implements MigrationInterface {
  name = 'AuditOrganisationChains1773200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Raw: TypeORM adds a column on SQLite by copying the table, which would lose its triggers.
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_checkpoints')} ADD COLUMN "organisationId" varchar(36)`);
    await queryRunner.createIndex('audit_checkpoints', new TableIndex({ name: 'IDX_audit_checkpoints_organisation', columnNames: ['organisationId', 'chainSeq'] }));
    await queryRunner.createTable(
      new Table({
        name: LINKS,
        columns: [
          { name: 'organisationId', type: 'varchar', length: '36', isPrimary: true },
          { name: 'orgSeq', type: 'integer', isPrimary: true },
          { name: 'eventId', type: 'integer' },
          { name: 'chainSeq', type: 'integer' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
        indices: [
          { name: 'IDX_audit_organisation_links_chain_seq', columnNames: ['chainSeq'] },
          { name: 'UQ_audit_organisation_links_event', columnNames: ['eventId', 'organisationId'], isUnique: true },
        ],
      }),
    );
    if (queryRunner.connection.driver.options.type === 'postgres') {
      // The function of AuditChain1766000000000, which refuses whatever it is called for.
      const fn = path(queryRunner, 'carethread_audit_append_only');
      await queryRunner.query(`CREATE TRIGGER "${LINKS}_append_only" BEFORE UPDATE OR DELETE ON ${path(queryRunner, LINKS)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      await queryRunner.query(`CREATE TRIGGER "${LINKS}_no_truncate" BEFORE TRUNCATE ON ${path(queryRunner, LINKS)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
      return;
    }
    await queryRunner.query(`CREATE TRIGGER "${LINKS}_no_update" BEFORE UPDATE ON "${LINKS}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    await queryRunner.query(`CREATE TRIGGER "${LINKS}_no_delete" BEFORE DELETE ON "${LINKS}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    // INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers (recursive_triggers is off).
    await queryRunner.query(
      `CREATE TRIGGER "${LINKS}_no_replace" BEFORE INSERT ON "${LINKS}" WHEN EXISTS (SELECT 1 FROM "${LINKS}" k WHERE k."organisationId" = NEW."organisationId" AND k."orgSeq" = NEW."orgSeq") BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    for (const trigger of postgres ? [`${LINKS}_append_only`, `${LINKS}_no_truncate`] : [`${LINKS}_no_update`, `${LINKS}_no_delete`, `${LINKS}_no_replace`]) {
      await queryRunner.query(postgres ? `DROP TRIGGER "${trigger}" ON ${path(queryRunner, LINKS)}` : `DROP TRIGGER "${trigger}"`);
    }
    await queryRunner.dropTable(LINKS);
    await queryRunner.dropIndex('audit_checkpoints', 'IDX_audit_checkpoints_organisation');
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_checkpoints')} DROP COLUMN "organisationId"`);
  }
}
