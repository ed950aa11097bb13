import { And, LessThanOrEqual, MoreThan, type DataSource, type FindOperator } from 'typeorm';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { AuditEvent, AuditEventPatient } from './audit-event.entity';

export interface ChainBreak {
  /** The first event that does not hold: its content or its link to the event before. */
  eventId: number;
  problem: string;
}

export interface ChainReport {
  /** Events checked and found sound: all of them when the chain is intact, those before the break otherwise. */
  events: number;
  /** The hash of the last sound event; GENESIS_HASH when there is none. */
  head: string;
  broken: ChainBreak | null;
  /** With `anchor`: the event whose hash it is, or null when no sound event has that hash. */
  anchorEventId?: number | null;
}

export interface VerifyOptions {
  /** Events read per query; memory stays flat whatever the length of the trail. */
  chunkSize?: number;
  /** A head hash printed by an earlier run and kept elsewhere: the chain must still contain it. */
  anchor?: string;
}

/**
 * Walks the audit trail in id order and recomputes every link of the hash
 * chain (see audit-chain.ts): each event's hash over the previous event's hash
 * and its own content, patients included. Stops at the first break. Proves
 * that no event was changed, removed, inserted or moved since it was written,
 * unless whoever did it recomputed every hash after it; keeping an earlier head
 * hash elsewhere and passing it as `anchor` catches that too, up to that head.
 */
export async function verifyChain(db: DataSource, options: VerifyOptions = {}): Promise<ChainReport> {
  const chunkSize = options.chunkSize ?? 5_000;
  const report: ChainReport = { events: 0, head: GENESIS_HASH, broken: null };
  if (options.anchor !== undefined) report.anchorEventId = null;
  let previousId = 0;
  const done = (broken: ChainBreak) => ({ ...report, broken });

  for (;;) {
    const rows = await db.manager.find(AuditEvent, { where: { id: MoreThan(previousId) }, order: { id: 'ASC' }, take: chunkSize });
    if (!rows.length) break;
    const lastId = rows[rows.length - 1].id;
    // Every link from just after the previous chunk to the end of this one, so none falls between chunks.
    const patients = await patientsOf(db, And(MoreThan(previousId), LessThanOrEqual(lastId)));
    for (const row of rows) {
      const patientIds = patients.get(row.id) ?? [];
      patients.delete(row.id);
      if (chainHash(row.prevHash, { ...row, patientIds }) !== row.hash) {
        return done({ eventId: row.id, problem: "the event's content does not match its hash: it was changed after it was written" });
      }
      if (row.prevHash !== report.head) {
        const before = report.events ? `event ${previousId}` : 'the start of the chain';
        return done({ eventId: row.id, problem: `its link to ${before} is broken: an event was removed, inserted or moved before it` });
      }
      report.events++;
      report.head = row.hash;
      previousId = row.id;
      if (row.hash === options.anchor) report.anchorEventId = row.id;
    }
    const orphan = orphanLink(patients);
    if (orphan) return done(orphan);
  }
  const orphan = orphanLink(await patientsOf(db, MoreThan(previousId)));
  return orphan ? done(orphan) : report;
}

/** The line `npm run audit:verify` prints. */
export function describeReport(report: ChainReport): string {
  if (report.broken) return `audit chain broken at event ${report.broken.eventId}: ${report.broken.problem}`;
  const line = `audit chain intact: ${report.events} events, head ${report.head}`;
  if (report.anchorEventId === undefined) return line;
  return report.anchorEventId === null
    ? `audit chain broken: it does not contain the anchored hash; events were removed from its end, or it was rewritten (${line})`
    : `${line}; the anchored hash is event ${report.anchorEventId}'s`;
}

/** Whether the chain holds, and contains the anchor when one was given. */
export const intact = (report: ChainReport): boolean => !report.broken && report.anchorEventId !== null;

async function patientsOf(db: DataSource, eventId: FindOperator<number>): Promise<Map<number, string[]>> {
  const links = await db.manager.find(AuditEventPatient, { where: { eventId } });
  const byEvent = new Map<number, string[]>();
  for (const { eventId: id, patientId } of links) byEvent.set(id, [...(byEvent.get(id) ?? []), patientId]);
  return byEvent;
}

/** A patient link left over once every event of its range took its own: it names an event that is not there. */
function orphanLink(unclaimed: Map<number, string[]>): ChainBreak | null {
  let eventId: number | null = null;
  for (const id of unclaimed.keys()) if (eventId === null || id < eventId) eventId = id;
  return eventId === null ? null : { eventId, problem: 'a patient is linked to this event, which is not in the trail: it was removed' };
}
