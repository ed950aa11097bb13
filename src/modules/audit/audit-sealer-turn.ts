import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { UnitOfWork } from '../../database/unit-of-work';

/**
 * The right to seal, held by one sealer at a time across every instance on
 * the database. `acquire` tries to take it (false: another holds it);
 * `seal` runs a round in one transaction while it is held.
 */
export interface SealingTurn {
  acquire(): Promise<boolean>;
  seal<T>(round: (m: EntityManager) => Promise<T>): Promise<T>;
  /** Gives the turn up (at stop, or after its connection failed). */
  release(): Promise<void>;
}

/** The turn for `db`: a session advisory lock on PostgreSQL, SQLite's single writer otherwise. */
export function sealingTurn(db: DataSource, uow: UnitOfWork<unknown>): SealingTurn {
  return db.options.type === 'postgres' ? new AdvisoryLockTurn(db) : writerTurn(uow);
}

/**
 * SQLite: every round is a write transaction (BEGIN IMMEDIATE), which one
 * writer of the file at a time holds, whichever process it is in; the round
 * reads the chain's head inside it, so two sealers cannot fork the chain.
 */
function writerTurn(uow: UnitOfWork<unknown>): SealingTurn {
  return { acquire: async () => true, seal: (round) => uow.transaction(round), release: async () => {} };
}

// Any fixed number: the first half of the advisory lock's key; the second names the schema.
const SEALER_LOCK_CLASS = 73_182_240;

/**
 * PostgreSQL: a session advisory lock on a connection of its own, kept while
 * this instance seals. PostgreSQL releases it when that connection ends, so a
 * process that dies hands the turn to the next instance that asks. Keyed by
 * schema: servers on other schemas of the same database seal their own chains.
 */
class AdvisoryLockTurn implements SealingTurn {
  private runner: QueryRunner | null = null;
  private readonly key: [number, number];

  constructor(private readonly db: DataSource) {
    const schema = (db.options as { schema?: string }).schema ?? 'public';
    this.key = [SEALER_LOCK_CLASS, createHash('sha256').update(schema).digest().readInt32BE(0)];
  }

  async acquire(): Promise<boolean> {
    if (this.runner) return true;
    const runner = this.db.createQueryRunner();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS locked', this.key)) as { locked: boolean }[];
      if (locked) this.runner = runner;
      return locked;
    } finally {
      if (!this.runner) await runner.release();
    }
  }

  async seal<T>(round: (m: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.runner;
    if (!runner) throw new Error('the sealing turn is not held');
    try {
      await runner.startTransaction();
      const value = await round(runner.manager);
      await runner.commitTransaction();
      return value;
    } catch (error) {
      // Whatever failed, the connection may be gone with the lock: take the turn again from scratch.
      await this.release();
      throw error;
    }
  }

  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    if (!runner) return;
    let broken: Error | undefined;
    try {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.query('SELECT pg_advisory_unlock($1, $2)', this.key);
    } catch (error) {
      // Never back to the pool with the lock possibly held: the pool closes a connection released with an error.
      broken = error as Error;
    } finally {
      // TypeORM's own way to hand a broken connection back (private in its types, used by its error handler).
      await (runner as unknown as { releasePostgresConnection(error?: Error): Promise<void> }).releasePostgresConnection(broken);
    }
  }
}
