/**
 * `npm run audit:export [-- --from <ISO> --to <ISO> --patient <id> --actor <id> --thread <id> --action <CODE> --organisation <id>]`:
 * writes the audit events of the database the server is configured with
 * (DATABASE_URL, DATABASE_SCHEMA) that match every option given, oldest first
 * (with --organisation, those of that organisation only, as its admins search them),
 * to stdout as FHIR R4 AuditEvent resources, one JSON per line (NDJSON; see
 * src/modules/audit/fhir-audit-event.ts for the mapping). Changes nothing.
 *
 * Exit 0: everything matching was written; stderr says `exported N audit events`.
 * Exit 1: the export stopped part way (the database failed, stdout closed); stderr says after how many.
 * Exit 2: nothing was exported: a bad option or setting, the database unreachable or not migrated.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { In, type DataSource } from 'typeorm';
import { AuditAction } from '../modules/audit/audit-action';
import type { AuditEvent } from '../modules/audit/audit-event.entity';
import { exportAuditEvents } from '../modules/audit/audit-search.service';
import type { AuditEventFilter } from '../modules/audit/audit-search.types';
import type { DeliveryRecipient } from '../modules/audit/audit.service';
import { toFhirAuditEvent, type FhirUser } from '../modules/audit/fhir-audit-event';
import { Organisation } from '../modules/organisations/organisation.entity';
import { User } from '../modules/users/user.entity';
import { CommandRefused, openAuditDatabase } from './audit-database';

const USAGE =
  'usage: audit-export [--from <ISO 8601>] [--to <ISO 8601>] [--patient <id>] [--actor <id>] [--thread <id>] [--action <CODE>] [--organisation <id>]';
/** Events read per query, and users looked up per query: memory stays flat whatever the length of the trail. */
const CHUNK = 500;
const ACTIONS = Object.values(AuditAction) as string[];

/** Stopped part way (exit 1). */
class ExportFailed extends Error {}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const db = await openAuditDatabase('export');
  try {
    if (options.organisationId && !(await db.manager.existsBy(Organisation, { id: options.organisationId }))) {
      throw new CommandRefused(`no organisation has the id ${options.organisationId}`);
    }
    const exported = await exportEvents(db, options, process.stdout);
    process.stderr.write(`exported ${exported} audit event${exported === 1 ? '' : 's'}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

/** Streams every matching event as one line of FHIR JSON; returns how many. */
async function exportEvents(db: DataSource, { filter, organisationId }: ExportOptions, out: NodeJS.WriteStream): Promise<number> {
  let exported = 0;
  // Any write error (EPIPE when the reader went away) rejects the next drain wait; remember it for the rest.
  let broken: Error | null = null;
  const onError = (error: Error) => (broken ??= error);
  out.on('error', onError);
  try {
    for await (const chunk of exportAuditEvents(db, filter, CHUNK, organisationId)) {
      const users = await usersOf(db, chunk.map((c) => c.event), chunk.flatMap((c) => c.patientIds));
      const lines = chunk.map(({ event, patientIds }) => `${JSON.stringify(toFhirAuditEvent(event, patientIds, users))}\n`).join('');
      if (broken) throw broken;
      if (!out.write(lines)) await drained(out, () => broken);
      exported += chunk.length;
    }
    if (broken) throw broken;
    // Everything written has reached the reader before the process exits.
    await new Promise<void>((resolve, reject) => out.write('', (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    throw new ExportFailed(`${(error as Error).message} (after ${exported} audit events were written)`);
  } finally {
    out.off('error', onError);
  }
  return exported;
}

/** Resolves once `out` takes more; rejects when it fails or closes first. */
async function drained(out: NodeJS.WriteStream, failure: () => Error | null): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([
      once(out, 'drain', { signal: stop.signal }),
      once(out, 'close', { signal: stop.signal }).then(() => {
        throw failure() ?? new Error('stdout closed');
      }),
    ]);
  } finally {
    stop.abort();
  }
}

/** Names and kinds of everyone the events name: actors, subjects, patients, delivery recipients. */
async function usersOf(db: DataSource, events: AuditEvent[], patientIds: string[]): Promise<Map<string, FhirUser>> {
  const ids = new Set(patientIds);
  for (const event of events) {
    ids.add(event.actorId);
    if (event.subjectUserId) ids.add(event.subjectUserId);
    if (event.recipients) for (const r of JSON.parse(event.recipients) as DeliveryRecipient[]) ids.add(r.id);
  }
  const users = ids.size ? await db.manager.find(User, { where: { id: In([...ids]) }, select: { id: true, name: true, kind: true } }) : [];
  return new Map(users.map((u) => [u.id, u]));
}

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  patient: { type: 'string' },
  actor: { type: 'string' },
  thread: { type: 'string' },
  action: { type: 'string' },
  organisation: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface ExportOptions {
  filter: AuditEventFilter;
  organisationId: string | null;
}

function parseOptions(argv: string[]): ExportOptions | 'help' {
  const values = (() => {
    try {
      return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new CommandRefused(`${(error as Error).message.replace(/\s*\n\s*/g, ' ')}; ${USAGE}`);
    }
  })();
  if (values.help) return 'help';
  for (const name of ['patient', 'actor', 'thread', 'organisation'] as const) {
    if (values[name] !== undefined && !values[name].trim()) throw new CommandRefused(`--${name} needs an id`);
  }
  if (values.action !== undefined && !ACTIONS.includes(values.action)) {
    throw new CommandRefused(`--action must be one of ${ACTIONS.join(', ')} (got "${values.action}")`);
  }
  const from = values.from === undefined ? undefined : instant('from', values.from);
  const to = values.to === undefined ? undefined : instant('to', values.to);
  if (from && to && from > to) throw new CommandRefused(`--from (${from.toISOString()}) is after --to (${to.toISOString()})`);
  return {
    filter: { from, to, patientId: values.patient, actorId: values.actor, threadId: values.thread, action: values.action },
    organisationId: values.organisation ?? null,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO 8601 date-time with its offset, or a date alone (UTC): for --from
 * its first moment, for --to its last, since both bounds are inclusive.
 */
function instant(name: 'from' | 'to', value: string): Date {
  const dateOnly = DATE.test(value);
  if (!dateOnly && !DATE_TIME.test(value)) {
    throw new CommandRefused(`--${name} must be an ISO 8601 date (2025-01-31, UTC) or date-time with an offset (2025-01-31T09:00:00Z) (got "${value}")`);
  }
  const date = new Date(dateOnly ? `${value}T00:00:00.000Z` : value);
  // Date takes 2025-02-31 for March 3rd; a calendar date that does not survive the round trip is not real.
  const day = value.slice(0, 10);
  if (Number.isNaN(date.getTime()) || new Date(`${day}T00:00:00.000Z`).toISOString().slice(0, 10) !== day) {
    throw new CommandRefused(`--${name} is not a real date and time (got "${value}")`);
  }
  return dateOnly && name === 'to' ? new Date(date.getTime() + 24 * 3600_000 - 1) : date;
}


main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    const stopped = error instanceof ExportFailed;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`audit ${stopped ? 'export stopped' : 'events not exported'}: ${message}\n`, () =>
      process.exit(stopped ? 1 : 2),
    );
  },
);
