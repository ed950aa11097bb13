import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath as path } from '../database/table-path';

const REFUSAL = 'audit events are append-only';
/** The columns sealing sets once, on a row not sealed yet; every other column never changes. */
const SEAL_COLUMNS = ['chainSeq', 'prevHash', 'hash'];

/**
 * Takes the audit chain off the writers' path: events are inserted unsealed
 * (no `chainSeq`, empty hashes) and the sealer (src/modules/audit/audit-sealer.ts)
 * later gives each its place in the chain. Existing events, already chained in
 * id order, become the first sealed segment: `chainSeq` is their rank by id, so
 * their hashes stay valid. The UPDATE trigger of audit_events now lets exactly
 * that through: setting the seal columns of an unsealed row, nothing else.
 * `audit_checkpoints` keeps the signed heads, append-only like the events.
 */
export class AuditSealing1772300000000 implements MigrationInterface {
  name = 'AuditSealing1772300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = isPostgres(queryRunner);
    const events = path(queryRunner, 'audit_events');
    // Raw: TypeORM adds a column on SQLite by copying the table, which would lose its triggers.
    await queryRunner.query(`ALTER TABLE ${events} ADD COLUMN "chainSeq" integer`);
    await dropUpdateTrigger(queryRunner);
    await queryRunner.query(
      `UPDATE ${events} SET "chainSeq" = r."seq" FROM (SELECT "id", ROW_NUMBER() OVER (ORDER BY "id") AS "seq" FROM ${events}) r WHERE r."id" = "audit_events"."id"`,
    );
    await queryRunner.createIndex('audit_events', new TableIndex({ name: 'UQ_audit_events_chain_seq', columnNames: ['chainSeq'], isUnique: true }));
    await queryRunner.createIndex('audit_events', new TableIndex({ name: 'IDX_audit_events_unsealed', columnNames: ['id'], where: '"chainSeq" IS NULL' }));
    await queryRunner.createTable(
      new Table({
        name: 'audit_checkpoints',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'chainSeq', type: 'integer' },
          { name: 'headHash', type: 'varchar', length: '64' },
          { name: 'at', type: postgres ? 'timestamptz' : 'datetime' },
          { name: 'keyId', type: 'varchar', length: '64' },
          { name: 'signature', type: 'varchar', length: '200' },
        ],
        indices: [{ name: 'IDX_audit_checkpoints_seq', columnNames: ['chainSeq'] }],
      }),
    );
    await sealOnlyUpdates(queryRunner);
    await appendOnlyCheckpoints(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = isPostgres(queryRunner);
    if (postgres) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "audit_checkpoints_append_only" ON ${path(queryRunner, 'audit_checkpoints')}`);
      await queryRunner.query(`DROP TRIGGER IF EXISTS "audit_checkpoints_no_truncate" ON ${path(queryRunner, 'audit_checkpoints')}`);
    }
    await queryRunner.dropTable('audit_checkpoints');
    await dropUpdateTrigger(queryRunner);
    if (postgres) await queryRunner.query(`DROP FUNCTION ${path(queryRunner, 'carethread_audit_seal_only')}()`);
    await queryRunner.dropIndex('audit_events', 'IDX_audit_events_unsealed');
    await queryRunner.dropIndex('audit_events', 'UQ_audit_events_chain_seq');
    await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} DROP COLUMN "chainSeq"`);
    const fn = path(queryRunner, 'carethread_audit_append_only');
    await queryRunner.query(
      postgres
        ? `CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON ${path(queryRunner, 'audit_events')} FOR EACH ROW EXECUTE FUNCTION ${fn}()`
        : `CREATE TRIGGER "audit_events_no_update" BEFORE UPDATE ON "audit_events" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
    );
  }
}

const isPostgres = (queryRunner: QueryRunner) => queryRunner.connection.driver.options.type === 'postgres';

/** The UPDATE trigger of migration 1766000000000, which refuses every UPDATE. */
async function dropUpdateTrigger(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(
    isPostgres(queryRunner) ? `DROP TRIGGER "audit_events_append_only" ON ${path(queryRunner, 'audit_events')}` : `DROP TRIGGER "audit_events_no_update"`,
  );
}

/**
 * Replaces the UPDATE trigger of audit_events (migration 1766000000000) with one
 * that refuses every UPDATE but sealing: an unsealed row (no chainSeq, empty
 * hashes) given its chainSeq and hashes, every other column unchanged.
 */
async function sealOnlyUpdates(queryRunner: QueryRunner): Promise<void> {
  if (isPostgres(queryRunner)) {
    const events = path(queryRunner, 'audit_events');
    const fn = path(queryRunner, 'carethread_audit_seal_only');
    const unsealed = SEAL_COLUMNS.reduce((json, column) => `${json} - '${column}'`, 'to_jsonb(%s)');
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         IF TG_OP = 'UPDATE' AND OLD."chainSeq" IS NULL AND OLD."hash" = '' AND OLD."prevHash" = '' AND NEW."chainSeq" IS NOT NULL
            AND ${unsealed.replace('%s', 'NEW')} = ${unsealed.replace('%s', 'OLD')} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '${REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
       END $$`,
    );
    await queryRunner.query(`CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON ${events} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    return;
  }
  const table = await queryRunner.getTable('audit_events');
  const unchanged = table!.columns.map((c) => c.name).filter((name) => !SEAL_COLUMNS.includes(name)).map((name) => `NEW."${name}" IS OLD."${name}"`);
  await queryRunner.query(
    `CREATE TRIGGER "audit_events_no_update" BEFORE UPDATE ON "audit_events"
     WHEN NOT (OLD."chainSeq" IS NULL AND OLD."hash" = '' AND OLD."prevHash" = '' AND NEW."chainSeq" IS NOT NULL AND ${unchanged.join(' AND ')})
     BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
  );
}

/** The same triggers as the events' (migration 1766000000000): no UPDATE, DELETE, TRUNCATE or REPLACE of a checkpoint. */
async function appendOnlyCheckpoints(queryRunner: QueryRunner): Promise<void> {
  const table = 'audit_checkpoints';
  if (isPostgres(queryRunner)) {
    const fn = path(queryRunner, 'carethread_audit_append_only');
    await queryRunner.query(`CREATE TRIGGER "${table}_append_only" BEFORE UPDATE OR DELETE ON ${path(queryRunner, table)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    await queryRunner.query(`CREATE TRIGGER "${table}_no_truncate" BEFORE TRUNCATE ON ${path(queryRunner, table)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    return;
  }
  await queryRunner.query(`CREATE TRIGGER "${table}_no_update" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
  await queryRunner.query(`CREATE TRIGGER "${table}_no_delete" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
  await queryRunner.query(
    `CREATE TRIGGER "${table}_no_replace" BEFORE INSERT ON "${table}" WHEN EXISTS (SELECT 1 FROM "${table}" k WHERE k."id" = NEW."id") BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
  );
}
