import { Client } from 'pg';
import type { TestServer } from './server';

/** A transaction of a test's own, outside the server, on the server's PostgreSQL schema. */
export interface OutsideTransaction {
  /** Runs a statement in the transaction (unqualified table names are the server's). */
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
  /**
   * Resolves once `count` sessions wait for the locks this transaction holds,
   * directly or queued behind another session that does; or once `done()`
   * holds (a request expected to wait went through instead). Asks the
   * database who waits for whom: no sleeping, no guessing at times.
   */
  untilWaiting(count: number, done?: () => boolean): Promise<void>;
  /** Rolls back, so that the sessions waiting for it go on, and disconnects. */
  release(): Promise<void>;
}

/**
 * Holds row locks against a running server (PostgreSQL only): a request that
 * needs a row this transaction locked stops right there, at a known point,
 * while the test sends another request; `release` lets it go on.
 */
export async function outsideTransaction(server: TestServer, timeoutMs = 10_000): Promise<OutsideTransaction> {
  const database = server.databaseEnv;
  if (!database?.DATABASE_SCHEMA) throw new Error('outsideTransaction needs a server on its own PostgreSQL schema');
  const client = new Client({ connectionString: database.DATABASE_URL });
  await client.connect();
  await client.query(`SET search_path TO "${database.DATABASE_SCHEMA}"`);
  await client.query('BEGIN');
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  let ended = false;

  /** The sessions waiting behind this one, directly or through another waiting session. */
  async function behind(): Promise<Set<number>> {
    // pg_locks, unlike pg_stat_activity, is not a snapshot kept for the rest of the transaction.
    const { rows } = await client.query<{ pid: number; blockers: number[] }>(
      'SELECT DISTINCT pid, pg_blocking_pids(pid) AS blockers FROM pg_locks WHERE NOT granted AND pid IS NOT NULL',
    );
    const found = new Set<number>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const row of rows) {
        if (!found.has(row.pid) && row.blockers.some((b) => b === pid || found.has(b))) {
          found.add(row.pid);
          grew = true;
        }
      }
    }
    return found;
  }

  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    async untilWaiting(count, done = () => false) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (done() || (await behind()).size >= count) return;
        if (Date.now() > deadline) throw new Error(`fewer than ${count} sessions came to wait behind the outside transaction`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async release() {
      if (ended) return;
      ended = true;
      try {
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
    },
  };
}
