/**
 * `npm run audit:verify [-- --organisation <id>] [--checkpoint <file>] [--export <file>] [--anchor <hash>] [--max-unsealed-seconds <n>]`:
 * checks the whole audit hash chain of the database the server is configured
 * with (DATABASE_URL, DATABASE_SCHEMA) against its latest signed checkpoint
 * (the key of AUDIT_SIGNING_KEY, or of AUDIT_SIGNING_KEY_FILE; or one of AUDIT_RETIRED_KEYS), without
 * changing anything, and prints what it found.
 *
 * --organisation: that organisation's own chain instead, against its own checkpoints; reads no other organisation's events.
 *
 * --checkpoint: a checkpoint kept from an earlier --export; the chain must hold everything up to it.
 * --export: writes the latest checkpoint to the file (JSON), to keep somewhere the database's owners cannot write.
 *
 * Exit 0: `audit chain intact: N events, head <hash>`, then the checkpoint, and events not sealed yet if any.
 * Exit 1: broken: an event changed, removed, inserted or moved, a checkpoint forged or not reached, or sealing stalled.
 * Exit 2: nothing was verified: a bad option or setting, an unknown organisation, the database unreachable or not migrated.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportCheckpoint, importCheckpoint, type Checkpoint } from '../modules/audit/audit-checkpoint';
import { verifyingKey } from '../modules/audit/audit-signing-key';
import { verifyOrganisationChain } from '../modules/audit/audit-organisation-verify';
import { describeReport, intact, verifyChain } from '../modules/audit/audit-verify';
import { Organisation } from '../modules/organisations/organisation.entity';
import { CommandRefused, commandConfig, openAuditDatabase } from './audit-database';

const USAGE =
  'usage: audit-verify [--organisation <id>] [--checkpoint <file from --export>] [--export <file>] [--anchor <head hash, 64 hex digits>] [--max-unsealed-seconds <n>]';

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const config = commandConfig();
  const keys = { publicKey: verifyingKey(config), retiredKeys: config.auditRetiredKeys };
  const db = await openAuditDatabase('verify');
  try {
    const { organisationId } = options;
    if (organisationId && !(await db.manager.existsBy(Organisation, { id: organisationId }))) throw new CommandRefused(`no organisation has the id ${organisationId}`);
    const report = organisationId ? await verifyOrganisationChain(db, organisationId, { ...options, ...keys }) : await verifyChain(db, { ...options, ...keys });
    for (const line of describeReport(report)) console.log(line);
    if (options.exportTo && report.checkpoint) writeFileSync(options.exportTo, `${exportCheckpoint(report.checkpoint)}\n`);
    return intact(report) ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

function parseOptions(argv: string[]): { organisationId?: string; anchor?: string; kept?: Checkpoint; exportTo?: string; maxUnsealedMs?: number } {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: { organisation: { type: 'string' }, anchor: { type: 'string' }, checkpoint: { type: 'string' }, export: { type: 'string' }, 'max-unsealed-seconds': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new CommandRefused(`${(error as Error).message.replace(/\s*\n\s*/g, ' ')}; ${USAGE}`);
  }
  if (values.anchor !== undefined && !/^[0-9a-f]{64}$/.test(values.anchor)) throw new CommandRefused(USAGE);
  const seconds = values['max-unsealed-seconds'];
  if (seconds !== undefined && !/^\d{1,6}$/.test(seconds)) throw new CommandRefused(`--max-unsealed-seconds needs a whole number of seconds; ${USAGE}`);
  return {
    organisationId: values.organisation,
    anchor: values.anchor,
    kept: values.checkpoint === undefined ? undefined : keptCheckpoint(values.checkpoint),
    exportTo: values.export,
    maxUnsealedMs: seconds === undefined ? undefined : Number(seconds) * 1000,
  };
}

function keptCheckpoint(file: string): Checkpoint {
  try {
    return importCheckpoint(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CommandRefused(`--checkpoint ${file}: ${(error as Error).message}`);
  }
}

// exitCode rather than exit(): stdout may be a pipe that is still being written (asynchronous outside Linux).
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`audit chain not verified: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
