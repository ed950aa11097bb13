import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { storedTime } from '../database/stored-time';
import { tablePath as path } from '../database/table-path';
import { chainHash, GENESIS_HASH } from '../modules/audit/audit-chain';
import type { AuditEvent } from '../modules/audit/audit-event.entity';

const APPEND_ONLY_TABLES = ['audit_events', 'audit_event_patients'];
const REFUSAL = 'audit events are append-only';

const optional = (name: string, type: string, length?: number) => new TableColumn({ name, type, length: length ? String(length) : undefined, isNullable: true });
const required = (name: string, length: number, initial: string) => new TableColumn({ name, type: 'varchar', length: String(length), default: `'${initial}'` });

/**
 * Makes the audit trail complete and tamper-evident: who (role, team), the
 * outcome, the request (id, IP, user agent), the instance, the patients an
 * event concerns, and a SHA-256 hash chain. Existing events are chained in id
 * order. Then triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL,
 * INSERT OR REPLACE over an existing row on SQLite).
 */
export class AuditChain1766000000000 implements MigrationInterface {
  name = 'AuditChain1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('audit_events', [
      required('actorRole', 16, 'PROFESSIONAL'),
      optional('actorTeamId', 'varchar', 36),
      required('outcome', 16, 'SUCCESS'),
      optional('reason', 'varchar', 300),
      optional('recipients', 'text'),
      optional('requestId', 'varchar', 64),
      optional('clientIp', 'varchar', 64),
      optional('userAgent', 'varchar', 300),
      required('instanceId', 100, 'before-audit-chain'),
      required('prevHash', 64, ''),
      required('hash', 64, ''),
    ]);
    await queryRunner.createIndex('audit_events', new TableIndex({ name: 'IDX_audit_events_actor', columnNames: ['actorId'] }));
    await queryRunner.createTable(
      new Table({
        name: 'audit_event_patients',
        columns: [
          { name: 'eventId', type: 'integer', isPrimary: true },
          { name: 'patientId', type: 'varchar', length: '36', isPrimary: true },
        ],
        indices: [{ name: 'IDX_audit_event_patients_patient', columnNames: ['patientId', 'eventId'] }],
        foreignKeys: [{ columnNames: ['eventId'], referencedTableName: 'audit_events', referencedColumnNames: ['id'] }],
      }),
    );
    await chainExisting(queryRunner);
    await appendOnly(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    for (const table of APPEND_ONLY_TABLES) {
      for (const trigger of triggerNames(table, postgres)) {
        await queryRunner.query(postgres ? `DROP TRIGGER IF EXISTS "${trigger}" ON ${path(queryRunner, table)}` : `DROP TRIGGER IF EXISTS "${trigger}"`);
      }
    }
    if (postgres) await queryRunner.query(`DROP FUNCTION IF EXISTS ${path(queryRunner, 'carethread_audit_append_only')}()`);
    await queryRunner.dropTable('audit_event_patients');
    await queryRunner.dropIndex('audit_events', 'IDX_audit_events_actor');
    for (const column of ['actorRole', 'actorTeamId', 'outcome', 'reason', 'recipients', 'requestId', 'clientIp', 'userAgent', 'instanceId', 'prevHash', 'hash']) {
      await queryRunner.query(`ALTER TABLE ${path(queryRunner, 'audit_events')} DROP COLUMN "${column}"`);
    }
  }
}

function triggerNames(table: string, postgres: boolean): string[] {
  return postgres ? [`${table}_append_only`, `${table}_no_truncate`] : [`${table}_no_update`, `${table}_no_delete`, `${table}_no_replace`];
}

/** Roles from the actors, patients from the event and its thread, then the chain, oldest first. */
async function chainExisting(queryRunner: QueryRunner): Promise<void> {
  const events: (AuditEvent & { isAdmin: boolean | number; kind: string })[] = await queryRunner.query(
    `SELECT e.*, u."isAdmin", u."kind" FROM ${path(queryRunner, 'audit_events')} e JOIN ${path(queryRunner, 'users')} u ON u."id" = e."actorId" ORDER BY e."id"`,
  );
  const patientsByThread = new Map<string, string[]>();
  const rows: { threadId: string; userId: string }[] = await queryRunner.query(
    `SELECT p."threadId", p."userId" FROM ${path(queryRunner, 'participants')} p JOIN ${path(queryRunner, 'users')} u ON u."id" = p."userId" WHERE u."kind" = 'PATIENT'`,
  );
  for (const row of rows) patientsByThread.set(row.threadId, [...(patientsByThread.get(row.threadId) ?? []), row.userId]);

  const postgres = queryRunner.connection.driver.options.type === 'postgres';
  const param = (n: number) => (postgres ? `$${n}` : '?');
  let prevHash = GENESIS_HASH;
  for (const event of events) {
    const actorRole = event.isAdmin === true || event.isAdmin === 1 ? 'ADMIN' : event.kind;
    const patientIds = [...new Set([...(event.patientId ? [event.patientId] : []), ...(event.threadId ? (patientsByThread.get(event.threadId) ?? []) : [])])];
    const hash = chainHash(prevHash, { ...event, at: storedTime(event.at), actorRole: actorRole as AuditEvent['actorRole'], patientIds, organisationIds: [] });
    await queryRunner.query(
      `UPDATE ${path(queryRunner, 'audit_events')} SET "actorRole" = ${param(1)}, "prevHash" = ${param(2)}, "hash" = ${param(3)} WHERE "id" = ${param(4)}`,
      [actorRole, prevHash, hash, event.id],
    );
    for (const patientId of patientIds) {
      await queryRunner.query(`INSERT INTO ${path(queryRunner, 'audit_event_patients')} ("eventId", "patientId") VALUES (${param(1)}, ${param(2)})`, [event.id, patientId]);
    }
    prevHash = hash;
  }
}


async function appendOnly(queryRunner: QueryRunner): Promise<void> {
  if (queryRunner.connection.driver.options.type === 'postgres') {
    const fn = path(queryRunner, 'carethread_audit_append_only');
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${REFUSAL} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$`,
    );
    for (const table of APPEND_ONLY_TABLES) {
      const [rowTrigger, truncateTrigger] = triggerNames(table, true);
      await queryRunner.query(`CREATE TRIGGER "${rowTrigger}" BEFORE UPDATE OR DELETE ON ${path(queryRunner, table)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      await queryRunner.query(`CREATE TRIGGER "${truncateTrigger}" BEFORE TRUNCATE ON ${path(queryRunner, table)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    }
    return;
  }
  for (const table of APPEND_ONLY_TABLES) {
    const [noUpdate, noDelete, noReplace] = triggerNames(table, false);
    await queryRunner.query(`CREATE TRIGGER "${noUpdate}" BEFORE UPDATE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    await queryRunner.query(`CREATE TRIGGER "${noDelete}" BEFORE DELETE ON "${table}" BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    // INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers (recursive_triggers is off).
    const sameKey = table === 'audit_events' ? 'k."id" = NEW."id"' : 'k."eventId" = NEW."eventId" AND k."patientId" = NEW."patientId"';
    await queryRunner.query(
      `CREATE TRIGGER "${noReplace}" BEFORE INSERT ON "${table}" WHEN EXISTS (SELECT 1 FROM "${table}" k WHERE ${sameKey}) BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
    );
  }
}
