import type { KeyObject } from 'node:crypto';
import { IsNull, Not, type DataSource, type EntityManager } from 'typeorm';
import type { Logger } from '../../logger';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { signCheckpoint } from './audit-checkpoint';
import { AuditCheckpoint } from './audit-checkpoint.entity';
import { chainedContents } from './audit-contents';
import { AuditEvent } from './audit-event.entity';
import { OrganisationChains, type SealedEvent } from './audit-organisation-chain';
import type { SealingTurn } from './audit-sealer-turn';
import type { AuditSigningKey } from './audit-signing-key';

/** How often an instance without the turn asks for it: how soon a dead sealer's turn is taken over. */
const STANDBY_MS = 1_000;
/** A new checkpoint at most this often, once the chain has grown past the last one. */
const CHECKPOINT_MS = 1_000;
/** Events sealed per transaction: short on SQLite, where the round holds the only writer. */
const BATCH = 200;

interface Head {
  chainSeq: number;
  hash: string;
}

/**
 * Seals the audit trail off the writers' path: shortly after events commit
 * (unsealed), gives each the next place in the chain (`chainSeq`, in the order
 * it finds them: ids commit out of order on PostgreSQL) and hash-chains it onto
 * the one before (audit-chain.ts), links it into its organisations' chains
 * (audit-organisation-chain.ts), then signs checkpoints of the heads. Runs on
 * every instance; only the holder of the sealing turn seals, the others wait
 * to take it over.
 */
export class AuditSealer {
  private readonly turn: SealingTurn;
  private readonly signingKey: () => AuditSigningKey;
  private resolvedKey: AuditSigningKey | null = null;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private holding = false;
  private lastCheckpoint: { chainSeq: number; at: number } | null = null;
  /** The chain has grown past the last checkpoint (or may have: just after taking the turn). */
  private checkpointDue = true;
  private readonly organisations = new OrganisationChains();
  private readonly db: DataSource;
  private sealing: Promise<unknown> = Promise.resolve();
  private readonly pollMs: number;

  /**
   * `key` is called once, at the first need (start): tools that never start a
   * sealer need no key. `pollMs`: how often it looks for new events (AUDIT_SEAL_MS,
   * default 200 ms: well inside the second within which they are sealed).
   */
  constructor(deps: { db: DataSource; turn: SealingTurn; key: () => AuditSigningKey; logger: Logger; pollMs: number }) {
    ({ db: this.db, turn: this.turn, key: this.signingKey, logger: this.logger, pollMs: this.pollMs } = deps);
  }

  private get key(): AuditSigningKey {
    return (this.resolvedKey ??= this.signingKey());
  }

  /** What checkpoints are checked with (audit-verify.ts). */
  get publicKey(): KeyObject {
    return this.key.publicKey;
  }

  /** Starts polling; stop() ends it. */
  start(): void {
    if (!this.stopped) return;
    void this.key;
    this.stopped = false;
    this.schedule(0);
  }

  /** Ends polling; the holder seals what is left, signs a last checkpoint and gives the turn up. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (this.holding) {
      await this.sealAll(true).catch((error: unknown) => this.logger.error({ err: error }, 'could not seal the audit trail at shutdown'));
      this.holding = false;
      await this.turn.release();
    }
  }

  /**
   * Takes the turn if free, then seals every unsealed event and signs a
   * checkpoint when one is due (`checkpoint`: whenever the head moved).
   * Returns how many events it sealed, or null without the turn.
   */
  sealAll(checkpoint = false): Promise<number | null> {
    // One at a time (the poll, stop, a test): on PostgreSQL they share the turn's one connection.
    const sealed = this.sealing.then(() => this.sealOnce(checkpoint));
    this.sealing = sealed.catch(() => {});
    return sealed;
  }

  private async sealOnce(checkpoint: boolean): Promise<number | null> {
    if (!this.holding) {
      this.holding = await this.turn.acquire();
      this.lastCheckpoint = null;
      this.checkpointDue = true;
      this.organisations.reset();
      if (!this.holding) return null;
      this.logger.info('this instance seals the audit trail');
    }
    // Idle: a read, no transaction (on SQLite, no turn of the writer).
    if (!checkpoint && !this.checkpointDue && !(await this.db.manager.exists(AuditEvent, { where: { chainSeq: IsNull() } }))) return 0;
    let sealed = 0;
    for (;;) {
      const round = await this.turn.seal((m) => this.round(m, checkpoint)).catch((error: unknown) => {
        this.holding = false;
        throw error;
      });
      sealed += round.sealed;
      // Linking catches up BATCH events a round (after an upgrade, the events sealed before it).
      if (round.sealed < BATCH && round.linked < BATCH) return sealed;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.sealAll()
        .then(
          (sealed) => this.schedule(sealed === null ? STANDBY_MS : this.pollMs),
          (error: unknown) => {
            this.logger.error({ err: error }, 'could not seal the audit trail; trying again');
            this.schedule(STANDBY_MS);
          },
        )
        .finally(() => (this.running = null));
    }, ms);
    this.timer.unref();
  }

  /**
   * One transaction: up to BATCH events chained onto the head, up to BATCH
   * linked into their organisations' chains, then checkpoints if due. Returns
   * how many it sealed and linked.
   */
  private async round(m: EntityManager, forceCheckpoint: boolean): Promise<{ sealed: number; linked: number }> {
    let head = await this.head(m);
    const after = head.chainSeq;
    const events = await m.find(AuditEvent, { where: { chainSeq: IsNull() }, order: { id: 'ASC' }, take: BATCH });
    const sealed: SealedEvent[] = [];
    if (events.length) {
      const contents = await chainedContents(m, events);
      const seals = events.map((event, i) => {
        const prevHash = head.hash;
        head = { chainSeq: head.chainSeq + 1, hash: chainHash(prevHash, contents[i]) };
        sealed.push({ id: event.id, chainSeq: head.chainSeq, hash: head.hash, organisationIds: contents[i].organisationIds });
        return { id: event.id, chainSeq: head.chainSeq, prevHash, hash: head.hash };
      });
      await writeSeals(m, seals);
    }
    const linked = await this.organisations.link(m, BATCH, { after, events: sealed });
    await this.checkpoint(m, head, forceCheckpoint);
    return { sealed: events.length, linked };
  }

  private async head(m: EntityManager): Promise<Head> {
    const last = await m.findOne(AuditEvent, { select: { chainSeq: true, hash: true }, where: { chainSeq: Not(IsNull()) }, order: { chainSeq: 'DESC' } });
    return last ? { chainSeq: last.chainSeq!, hash: last.hash! } : { chainSeq: 0, hash: GENESIS_HASH };
  }

  private async checkpoint(m: EntityManager, head: Head, force: boolean): Promise<void> {
    if (!this.lastCheckpoint) {
      const [c] = await m.find(AuditCheckpoint, { select: { chainSeq: true, at: true }, where: { organisationId: IsNull() }, order: { chainSeq: 'DESC' }, take: 1 });
      this.lastCheckpoint = { chainSeq: c?.chainSeq ?? 0, at: c?.at.getTime() ?? 0 };
    }
    const last = this.lastCheckpoint;
    const now = Date.now();
    const moved = head.chainSeq > last.chainSeq;
    this.checkpointDue = moved || this.organisations.unsigned;
    if (!this.checkpointDue || (!force && now - last.at < CHECKPOINT_MS)) return;
    if (moved) await m.insert(AuditCheckpoint, signCheckpoint(this.key, { chainSeq: head.chainSeq, headHash: head.hash }, new Date(now)));
    await this.organisations.sign(m, this.key, new Date(now));
    this.lastCheckpoint = { chainSeq: head.chainSeq, at: now };
    this.checkpointDue = false;
  }
}

/**
 * Sets each event's seal, in one statement, only where none is set yet (the
 * triggers refuse any other UPDATE). A row found sealed already means another
 * sealer got there: throws, so that the round rolls back rather than fork the chain.
 */
async function writeSeals(m: EntityManager, seals: { id: number; chainSeq: number; prevHash: string; hash: string }[]): Promise<void> {
  const postgres = m.connection.options.type === 'postgres';
  const schema = postgres ? (m.connection.options as { schema?: string }).schema : undefined;
  const table = schema ? `"${schema}"."audit_events"` : '"audit_events"';
  const values = postgres
    ? `SELECT * FROM unnest($1::int[], $2::int[], $3::varchar[], $4::varchar[]) AS v("id", "chainSeq", "prevHash", "hash")`
    : `SELECT column1 AS "id", column2 AS "chainSeq", column3 AS "prevHash", column4 AS "hash" FROM (VALUES ${seals.map(() => '(?, ?, ?, ?)').join(', ')})`;
  const params = postgres
    ? [seals.map((s) => s.id), seals.map((s) => s.chainSeq), seals.map((s) => s.prevHash), seals.map((s) => s.hash)]
    : seals.flatMap((s) => [s.id, s.chainSeq, s.prevHash, s.hash]);
  // Through the transaction's runner, which tells how many rows changed.
  const { affected } = await m.queryRunner!.query(
    `UPDATE ${table} SET "chainSeq" = v."chainSeq", "prevHash" = v."prevHash", "hash" = v."hash"
     FROM (${values}) AS v WHERE "audit_events"."id" = v."id" AND "audit_events"."chainSeq" IS NULL`,
    params,
    true,
  );
  if (affected !== seals.length) throw new Error(`${seals.length - (affected ?? 0)} audit events were sealed meanwhile by another sealer; nothing sealed this round`);
}
