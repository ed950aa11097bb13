import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';

export type Work<T> = (manager: EntityManager) => Promise<T>;

/** Runs work in one database transaction: all of it commits, or none of it. */
export interface UnitOfWork {
  transaction<T>(work: Work<T>): Promise<T>;
}

/**
 * TypeORM's SQLite drivers share one connection and one query runner across
 * the whole process, so two overlapping `dataSource.transaction` calls would
 * nest as savepoints of each other and a rollback of one would undo the
 * other. Here transactions take turns, and a statement from outside the
 * running transaction waits for it to end, so nobody reads uncommitted rows.
 * Write transactions begin IMMEDIATE (see below).
 */
export function createUnitOfWork(dataSource: DataSource): UnitOfWork {
  if (dataSource.options.type !== 'better-sqlite3') {
    return { transaction: (work) => dataSource.transaction(work) };
  }
  const owner = new AsyncLocalStorage<symbol>();
  let running: { token: symbol; done: Promise<void> } | null = null;
  let tail: Promise<void> = Promise.resolve();

  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner);
  runner.query = (async (sql: string, ...rest: unknown[]) => {
    while (running && owner.getStore() !== running.token) await running.done;
    // A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    // another process wrote meanwhile; IMMEDIATE takes the write lock up front, where the busy
    // timeout applies, so a transaction either gets the lock or fails before doing anything.
    return query(sql === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : sql, ...(rest as []));
  }) as typeof runner.query;

  return {
    transaction<T>(work: Work<T>): Promise<T> {
      const token = Symbol('transaction');
      const previous = tail;
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      tail = previous.then(() => done);
      return previous.then(() => {
        running = { token, done };
        return owner
          .run(token, () => dataSource.transaction(work))
          .finally(() => {
            running = null;
            finish();
          });
      });
    },
  };
}
