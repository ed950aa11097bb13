import type { KeyObject } from 'node:crypto';
import { IsNull, MoreThan, type DataSource } from 'typeorm';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { signatureHolds, type Checkpoint } from './audit-checkpoint';
import { AuditCheckpoint } from './audit-checkpoint.entity';
import { AuditEvent, AuditEventPatient } from './audit-event.entity';
import { chainedContents } from './audit-contents';
import { keyIdOf } from './audit-signing-key';

export interface ChainBreak {
  /** The first event that does not hold: its content or its link to the event before. */
  eventId: number;
  problem: string;
}

export interface ChainReport {
  /** The organisation whose own chain this is; null for the whole chain. */
  organisationId: string | null;
  /** Sealed events checked and found sound: all of them when the chain is intact, those before the break otherwise. */
  events: number;
  /** The hash of the last sound event; GENESIS_HASH when there is none. */
  head: string;
  broken: ChainBreak | null;
  /** With `anchor`: the event whose hash it is, or null when no sound event has that hash. */
  anchorEventId?: number | null;
  /** The latest checkpoint in the database, null when there is none. */
  checkpoint: Checkpoint | null;
  /** What is wrong with the latest checkpoint or the chain against it, if anything. */
  checkpointProblem: string | null;
  /** With `kept`: what is wrong with the chain against that checkpoint, null when it holds. */
  keptProblem?: string | null;
  /** Events not sealed yet: how many, and the time of the oldest. */
  unsealed: { count: number; oldestAt: Date | null };
  /** The oldest unsealed event is older than `maxUnsealedMs`: the sealer is not running. */
  stale: boolean;
}

export interface VerifyOptions {
  /** Events read per query; memory stays flat whatever the length of the trail. */
  chunkSize?: number;
  /** A head hash printed by an earlier run and kept elsewhere: the chain must still contain it. */
  anchor?: string;
  /** The key checkpoints must be signed with (its public half); null: none is configured, and any checkpoint fails. */
  publicKey: KeyObject | null;
  /** Earlier keys (AUDIT_RETIRED_KEYS): a checkpoint signed with one of them holds too. */
  retiredKeys?: KeyObject[];
  /** A checkpoint kept outside the database (`audit:verify --export`): the chain must still hold everything up to it. */
  kept?: Checkpoint;
  /** An unsealed event older than this fails the run (default 60 s): sealing takes a second or so. */
  maxUnsealedMs?: number;
}

const DEFAULT_MAX_UNSEALED_MS = 60_000;

/**
 * Walks the sealed audit trail in chain order (`chainSeq`) and recomputes
 * every link (see audit-chain.ts): each event's hash over the previous event's
 * hash and its own content, patients included. Stops at the first break. Then
 * checks the chain against the latest signed checkpoint (and a kept one, if
 * given): the signature, and that the chain still has the event the checkpoint
 * names, with that hash. Proves that no sealed event was changed, removed,
 * inserted or moved, the newest ones included, unless whoever did it also
 * holds the signing key.
 */
export async function verifyChain(db: DataSource, options: VerifyOptions): Promise<ChainReport> {
  const chunkSize = options.chunkSize ?? 5_000;
  const { report, named } = await startReport(db, options, null);
  let previousId = 0;

  walk: for (;;) {
    const rows = await db.manager.find(AuditEvent, { where: { chainSeq: MoreThan(report.events) }, order: { chainSeq: 'ASC' }, take: chunkSize });
    if (!rows.length) break;
    const contents = await chainedContents(db.manager, rows);
    for (const [i, row] of rows.entries()) {
      if (chainHash(row.prevHash!, contents[i]) !== row.hash) {
        report.broken = { eventId: row.id, problem: CHANGED };
        break walk;
      }
      if (row.prevHash !== report.head || row.chainSeq !== report.events + 1) {
        const before = report.events ? `event ${previousId}` : 'the start of the chain';
        report.broken = { eventId: row.id, problem: `its link to ${before} is broken: an event was removed, inserted or moved before it` };
        break walk;
      }
      report.events++;
      report.head = row.hash!;
      previousId = row.id;
      if (row.hash === options.anchor) report.anchorEventId = row.id;
      markFound(named, row.chainSeq, row.hash!);
    }
  }
  if (!report.broken) report.broken = await orphanLink(db);
  return endReport(report, named, options);
}

/** An event whose content no longer matches its hash. */
export const CHANGED = "the event's content does not match its hash: it was changed after it was written";

/** The hashes checkpoints name, by their chainSeq: the walk records what it found there. */
export type NamedHeads = Map<number, { hash: string; found: string | null }>;

/** The walk passed `chainSeq`, which hashes `hash`. */
export function markFound(named: NamedHeads, chainSeq: number, hash: string): void {
  const mark = named.get(chainSeq);
  if (mark) mark.found = hash;
}

/** A report before the walk: the checkpoints to compare the chain of `organisationId` (null: the whole chain) with, and what is not sealed yet. */
export async function startReport(db: DataSource, options: VerifyOptions, organisationId: string | null): Promise<{ report: ChainReport; named: NamedHeads }> {
  const checkpoint = await latestCheckpoint(db, organisationId);
  const unsealed = await unsealedEvents(db);
  const report: ChainReport = {
    organisationId,
    events: 0,
    head: GENESIS_HASH,
    broken: null,
    checkpoint,
    checkpointProblem: null,
    unsealed,
    stale: unsealed.oldestAt !== null && Date.now() - unsealed.oldestAt.getTime() > (options.maxUnsealedMs ?? DEFAULT_MAX_UNSEALED_MS),
  };
  if (options.anchor !== undefined) report.anchorEventId = null;
  if (options.kept) report.keptProblem = otherChain(options.kept, organisationId) ?? signatureProblem(options.kept, options);
  const named: NamedHeads = new Map();
  if (checkpoint) named.set(checkpoint.chainSeq, { hash: checkpoint.headHash, found: null });
  if (options.kept) named.set(options.kept.chainSeq, { hash: options.kept.headHash, found: null });
  return { report, named };
}

/** After an unbroken walk: the chain against its latest checkpoint, and against the kept one. */
export function endReport(report: ChainReport, named: NamedHeads, options: VerifyOptions): ChainReport {
  if (!report.broken) {
    report.checkpointProblem = checkpointProblem(report, report.checkpoint, options, named);
    if (options.kept) report.keptProblem ??= againstChain(report, options.kept, named);
  }
  return report;
}

/** The lines `npm run audit:verify` prints: the chain, its checkpoints, what is not sealed yet. */
export function describeReport(report: ChainReport): string[] {
  const chain = report.organisationId ? `organisation ${report.organisationId}'s audit chain` : 'audit chain';
  if (report.broken) return [`${chain} broken at event ${report.broken.eventId}: ${report.broken.problem}`];
  const lines = [`${chain} intact: ${report.events} events, head ${report.head}`];
  if (report.anchorEventId !== undefined) {
    lines[0] =
      report.anchorEventId === null
        ? `${chain} broken: it does not contain the anchored hash; events were removed from its end, or it was rewritten (${lines[0]})`
        : `${lines[0]}; the anchored hash is event ${report.anchorEventId}'s`;
  }
  const { checkpoint } = report;
  if (report.checkpointProblem) lines.push(`audit checkpoint broken: ${report.checkpointProblem}`);
  else if (checkpoint) lines.push(`checkpoint: ${checkpoint.chainSeq} events, head ${checkpoint.headHash}, signed ${checkpoint.at.toISOString()} by key ${checkpoint.keyId}`);
  if (report.keptProblem !== undefined) lines.push(report.keptProblem ? `kept checkpoint broken: ${report.keptProblem}` : 'kept checkpoint holds: nothing up to it changed');
  if (report.unsealed.count) {
    const age = Math.round((Date.now() - report.unsealed.oldestAt!.getTime()) / 1000);
    lines.push(`${report.stale ? 'audit sealing stalled' : 'not sealed yet'}: ${report.unsealed.count} events, the oldest ${age} s old`);
  }
  return lines;
}

/** Whether the chain holds, against its checkpoints too, contains the anchor when one was given, and its sealing keeps up. */
export const intact = (report: ChainReport): boolean =>
  !report.broken && report.anchorEventId !== null && !report.checkpointProblem && !report.keptProblem && !report.stale;

/** The latest checkpoint of the chain of `organisationId` (null: the whole chain), null when there is none. */
export async function latestCheckpoint(db: DataSource, organisationId: string | null): Promise<Checkpoint | null> {
  const [latest] = await db.manager.find(AuditCheckpoint, { where: { organisationId: organisationId ?? IsNull() }, order: { chainSeq: 'DESC', id: 'DESC' }, take: 1 });
  if (!latest) return null;
  const { chainSeq, headHash, at, keyId, signature } = latest;
  return { ...(organisationId ? { organisationId } : {}), chainSeq, headHash, at, keyId, signature };
}

/** A kept checkpoint of another chain than the one checked. */
function otherChain(kept: Checkpoint, organisationId: string | null): string | null {
  if ((kept.organisationId ?? null) === organisationId) return null;
  return kept.organisationId ? `it is organisation ${kept.organisationId}'s checkpoint: check it with --organisation ${kept.organisationId}` : "it is the whole chain's checkpoint: check it without --organisation";
}

async function unsealedEvents(db: DataSource): Promise<ChainReport['unsealed']> {
  const count = await db.manager.countBy(AuditEvent, { chainSeq: IsNull() });
  const [oldest] = count ? await db.manager.find(AuditEvent, { select: { id: true, at: true }, where: { chainSeq: IsNull() }, order: { id: 'ASC' }, take: 1 }) : [];
  return { count, oldestAt: oldest?.at ?? null };
}

/** What is wrong with a checkpoint's signature: by the configured key, or a retired one it names. */
function signatureProblem(c: Checkpoint, { publicKey, retiredKeys = [] }: Pick<VerifyOptions, 'publicKey' | 'retiredKeys'>): string | null {
  if (!publicKey) return 'no key to check its signature with: set AUDIT_SIGNING_KEY (or AUDIT_SIGNING_KEY_FILE) as the server has it';
  const key = [publicKey, ...retiredKeys].find((k) => keyIdOf(k) === c.keyId);
  if (!key) return `it names key ${c.keyId}, not the configured key ${keyIdOf(publicKey)}${retiredKeys.length ? ' nor a retired one (AUDIT_RETIRED_KEYS)' : ''}`;
  return signatureHolds(key, c) ? null : 'its signature does not hold: it was forged or changed';
}

/** The newest events cannot go unnoticed: the latest checkpoint must be signed, and the chain must reach it with the same hash. */
function checkpointProblem(report: ChainReport, checkpoint: Checkpoint | null, keys: Pick<VerifyOptions, 'publicKey' | 'retiredKeys'>, named: NamedHeads): string | null {
  if (!checkpoint) return report.events ? 'there is none, though events are sealed: the checkpoints were removed' : null;
  return signatureProblem(checkpoint, keys) ?? againstChain(report, checkpoint, named);
}

function againstChain(report: ChainReport, c: Checkpoint, named: NamedHeads): string | null {
  if (c.chainSeq > report.events) return `it was signed over ${c.chainSeq} events; the chain has ${report.events}: the newest events were removed`;
  const found = named.get(c.chainSeq)?.found;
  return found === c.headHash ? null : `the chain's event ${c.chainSeq} hashes ${found}, not the signed ${c.headHash}: the chain was rewritten`;
}

/** A patient link naming an event that is not in the trail: it was removed. */
async function orphanLink(db: DataSource): Promise<ChainBreak | null> {
  const orphan = await db.manager
    .createQueryBuilder(AuditEventPatient, 'p')
    .leftJoin(AuditEvent, 'e', 'e.id = p.eventId')
    .select('MIN(p.eventId)', 'eventId')
    .where('e.id IS NULL')
    .getRawOne<{ eventId: number | null }>();
  return orphan?.eventId == null ? null : { eventId: Number(orphan.eventId), problem: 'a patient is linked to this event, which is not in the trail: it was removed' };
}
