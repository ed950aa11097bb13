import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath as path } from '../database/table-path';

const REFUSAL = 'audit events are append-only';
/** The columns sealing sets once, on a row not sealed yet (as in AuditSealing1772300000000). */
const SEAL_COLUMNS = ['chainSeq', 'prevHash', 'hash'];

/**
 * The organisations an audit event concerns, so that each organisation's
 * admins search only theirs: the first (in id order) in `audit_events`, any
 * others in `audit_event_organisations` (most events concern one, and the
 * writers' path keeps its statements). Both are part of the hashed content,
 * and the new table is append-only like the events'. Events from before
 * organisations concern none: they are the first organisation's (the one
 * everything moved into), read so, never rewritten, so their hashes hold.
 */
export class AuditOrganisations1773100000000 implements MigrationInterface {
  name = 'AuditOrganisations1773100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    // Raw: TypeORM adds a column on SQLite by copying the table, which would lose its triggers.
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} ADD COLUMN "organisationId" varchar(36)`);
    await queryRunner.createIndex('audit_events', new TableIndex({ name: 'IDX_audit_events_organisation', columnNames: ['organisationId', 'id'] }));
    await queryRunner.createTable(
      new Table({
        name: 'audit_event_organisations',
        columns: [
          { name: 'eventId', type: 'integer', isPrimary: true },
          { name: 'organisationId', type: 'varchar', length: '36', isPrimary: true },
        ],
        indices: [{ name: 'IDX_audit_event_organisations_organisation', columnNames: ['organisationId', 'eventId'] }],
      }),
    );
    const table = 'audit_event_organisations';
    if (postgres) {
      // The function of AuditChain1766000000000, which refuses whatever it is called for.
      const fn = path(queryRunner, 'carethread_audit_append_only');
      await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON ${path(queryRunner, table)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      await queryRunner.query(`CREATE TRIGGER "${table}_no_truncate" BEFORE TRUNCATE ON ${path(queryRunner, table)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
      // The seal-only UPDATE trigger of audit_events compares whole rows: the new column is covered.
      return;
    }
    await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    // INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers (recursive_triggers is off).
    await queryRunner.query(
      `CREATE TRIGGER "${table}_no_replace" BEFORE INSERT ON "${table}" WHEN EXISTS (SELECT 1 FROM "${table}" k WHERE k."eventId" = NEW."eventId" AND k."organisationId" = NEW."organisationId") BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
    );
    // SQLite's seal-only trigger names every column it keeps unchanged: made again with the new one.
    await queryRunner.query(`DROP TRIGGER "audit_events_no_update"`);
    await sealOnlyUpdatesOnSqlite(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const table = 'audit_event_organisations';
    for (const trigger of postgres ? [`${table}_append_only`, `${table}_no_truncate`] : [`${table}_no_update`, `${table}_no_delete`, `${table}_no_replace`]) {
      await queryRunner.query(postgres ? `DROP TRIGGER "${trigger}" ON ${path(queryRunner, table)}` : `DROP TRIGGER "${trigger}"`);
    }
    await queryRunner.dropTable(table);
    await queryRunner.dropIndex('audit_events', 'IDX_audit_events_organisation');
    if (postgres) {
      await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} DROP COLUMN "organisationId"`);
      return;
    }
    // The trigger names the column: without it first, then as AuditSealing1772300000000 made it.
    await queryRunner.query(`DROP TRIGGER "audit_events_no_update"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "organisationId"`);
    await sealOnlyUpdatesOnSqlite(queryRunner);
  }
}

/** SQLite: refuses every UPDATE of audit_events but sealing an unsealed row, every other column of the table as it is now unchanged. */
export async function sealOnlyUpdatesOnSqlite(queryRunner: QueryRunner): Promise<void> {
  const events = await queryRunner.getTable('audit_events');
  const unchanged = events!.columns.map((c) => c.name).filter((name) => !SEAL_COLUMNS.includes(name)).map((name) => `NEW."${name}" IS OLD."${name}"`);
  await queryRunner.query(
    `CREATE TRIGGER "audit_events_no_update" BEFORE UPDATE ON "audit_events"
     WHEN NOT (OLD."chainSeq" IS NULL AND OLD."hash" = '' AND OLD."prevHash" = '' AND NEW."chainSeq" IS NOT NULL AND ${unchanged.join(' AND ')})
     BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
  );
}
