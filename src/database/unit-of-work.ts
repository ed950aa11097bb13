import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, EntityTarget } from 'typeorm';
import { isId, newId } from '../common/ids';
import type { AnyBusEvent } from '../events/event-bus';
import { toBusEvent, type TxEvents, type TxTopic } from '../events/tx-events';

export type Work<T> = (manager: EntityManager) => Promise<T>;

/**
 * The order every transaction takes its locks in: teams, threads, then inbox
 * items (thread_teams rows). Two transactions that both keep to it can never
 * deadlock on each other. Audit events take no lock: they are inserted
 * unsealed and chained after the commit.
 */
export const LOCK_LEVELS = ['teams', 'threads', 'inboxItems'] as const;
export type LockLevel = (typeof LOCK_LEVELS)[number];

/** A lock taken out of LOCK_LEVELS order, or a transaction used after it ended: a bug in the calling code, never the client's fault. */
export class LockOrderError extends Error {
  override name = 'LockOrderError';
}

/** Tracks the highest lock level a transaction holds; going back to a lower one throws LockOrderError. */
export class LockOrder {
  private level = -1;

  enter(level: LockLevel): void {
    const index = LOCK_LEVELS.indexOf(level);
    if (index < this.level) throw new LockOrderError(`a transaction took the ${level} lock after the ${LOCK_LEVELS[this.level]} lock`);
    this.level = index;
  }
}

/**
 * Writes audit entries for the unit of work (the audit module, plugged in at
 * wiring): `prepare` reads what the entries need at the moment tx.audit is
 * called, `write` inserts them once the work is done.
 */
export interface AuditWriter<A, P> {
  prepare(m: EntityManager, entries: A[]): Promise<P[]>;
  write(m: EntityManager, prepared: P[]): Promise<void>;
}

/** Where published events go: into the transaction, then to the bus once it committed (events/outbox.ts). */
export interface EventOutbox {
  /** Inside the transaction, with the change. */
  write(m: EntityManager, events: AnyBusEvent[]): Promise<void>;
  /** After the commit: delivers on this instance at once, to the others in the background. */
  publish(events: AnyBusEvent[]): void;
}

/** A listener of another module, run inside the transaction that emits the event: it may lock, write, audit and emit in turn. */
export type TxListener<A, K extends TxTopic> = (tx: Tx<A>, payload: TxEvents[K]) => Promise<void>;

/** One transaction of a unit of work, with `A` the audit entries it collects. */
export interface Tx<A> {
  readonly manager: EntityManager;
  /**
   * Locks teams in id order (PostgreSQL; SQLite transactions already take
   * turns) so that membership changes (`change`: FOR NO KEY UPDATE, which the
   * foreign-key checks of participants and thread_teams do not wait for) and
   * the thread changes that read a team's members (`read`: FOR SHARE) take
   * turns: a thread picking a team while a member is removed either sees the
   * removal or is seen by it, never neither.
   */
  lockTeams(teamIds: string[], mode: 'change' | 'read'): Promise<void>;
  /**
   * Takes the threads' row locks in id order, so that participant changes,
   * inbox changes and message sends on one thread commit one after another:
   * each message's recipients are exactly the participants at its commit.
   */
  lockThreads(threadIds: string[]): Promise<void>;
  /**
   * Locks the thread as lockThreads does, by running `advance`: the one
   * statement of a send that takes the thread's next message number (and
   * whatever else the send changes in the thread's row), where locking and
   * numbering would otherwise take two.
   */
  advanceThread<T>(threadId: string, advance: (m: EntityManager) => Promise<T>): Promise<T>;
  /** Runs `take`, which reads or writes inbox items (thread_teams rows, locking them), at the inbox items' place in the order. */
  lockInboxItems<T>(take: (m: EntityManager) => Promise<T>): Promise<T>;
  /** Audits the entries as things stand now; they are written once the work is done, in the same transaction. */
  audit(...entries: A[]): Promise<void>;
  /**
   * Runs the listeners of `topic` (in the order they were registered) inside
   * this transaction; a published topic also goes to the outbox, and to the
   * bus once the transaction committed, in the order emitted.
   */
  emit<K extends TxTopic>(topic: K, payload: TxEvents[K]): Promise<void>;
}

/** Runs work in one database transaction: all of it commits, or none of it. */
export interface UnitOfWork<A> {
  /** A transaction with ordered locks, audit and events (see Tx). Published events go out after the commit; nothing is published on a rollback. */
  run<T>(work: (tx: Tx<A>) => Promise<T>): Promise<T>;
  /** A bare transaction (the outbox relay's, tests'): no events, no audit. */
  transaction<T>(work: Work<T>): Promise<T>;
  /** Registers a listener of `topic` for every transaction (at wiring). */
  on<K extends TxTopic>(topic: K, listener: TxListener<A, K>): void;
  /** Plugs in the audit writer (at wiring); tx.audit throws without one. */
  auditWith<P>(writer: AuditWriter<A, P>): void;
}

/**
 * The rows the first two levels lock: the team and thread entities (ids; a
 * thread's `lastSeq`), given at wiring, so that this
 * platform code imports nothing of the domain.
 */
export interface LockTables {
  teams: EntityTarget<{ id: string }>;
  threads: EntityTarget<{ id: string; lastSeq: number }>;
}

/** Dependencies of one Tx, for createTx. */
export interface TxContext<A> {
  tables: LockTables;
  listeners: Map<TxTopic, TxListener<A, never>[]>;
  writer: AuditWriter<A, unknown> | null;
}

/** What a transaction collected for its end: prepared audit entries and published events. */
export interface TxResult {
  prepared: unknown[];
  events: AnyBusEvent[];
  /** Marks the transaction ended: any later use throws LockOrderError. */
  end(): void;
}

/** One transaction's Tx over `manager` (createUnitOfWork's; exported for tests of the lock order). */
export function createTx<A>(manager: EntityManager, context: TxContext<A>): { tx: Tx<A>; result: TxResult } {
  const order = new LockOrder();
  // Taking again a lock the transaction holds waits for nobody, wherever it is in the order.
  const held = { teams: new Set<string>(), threads: new Set<string>() };
  let ended = false;
  const result: TxResult = { prepared: [], events: [], end: () => (ended = true) };
  const live = () => {
    if (ended) throw new LockOrderError('a transaction was used after its work ended');
  };
  const postgres = manager.connection.options.type === 'postgres';
  const tx: Tx<A> = {
    manager,
    async lockTeams(teamIds, mode) {
      live();
      const ids = [...new Set(teamIds.filter(isId))].filter((id) => !held.teams.has(id)).sort();
      if (!ids.length) return;
      order.enter('teams');
      for (const id of ids) held.teams.add(id);
      if (!postgres) return;
      await manager
        .createQueryBuilder(context.tables.teams, 't')
        .select('t.id')
        .where('t.id IN (:...ids)', { ids })
        .orderBy('t.id', 'ASC')
        .setLock(mode === 'change' ? 'for_no_key_update' : 'pessimistic_read')
        .getMany();
    },
    async lockThreads(threadIds) {
      live();
      const ids = [...new Set(threadIds)].filter((id) => !held.threads.has(id)).sort();
      if (!ids.length) return;
      order.enter('threads');
      for (const threadId of ids) {
        held.threads.add(threadId);
        await manager.createQueryBuilder().update(context.tables.threads).set({ lastSeq: () => '"lastSeq"' }).where('id = :threadId', { threadId }).execute();
      }
    },
    async advanceThread(threadId, advance) {
      live();
      if (!held.threads.has(threadId)) order.enter('threads');
      held.threads.add(threadId);
      return advance(manager);
    },
    async lockInboxItems(take) {
      live();
      order.enter('inboxItems');
      return take(manager);
    },
    async audit(...entries) {
      live();
      if (!entries.length) return;
      if (!context.writer) throw new Error('no audit writer: call uow.auditWith at wiring');
      result.prepared.push(...(await context.writer.prepare(manager, entries)));
    },
    async emit(topic, payload) {
      live();
      const event = toBusEvent(newId(), topic, payload);
      if (event) result.events.push(event);
      for (const listener of context.listeners.get(topic) ?? []) await (listener as TxListener<A, typeof topic>)(tx, payload);
    },
  };
  return { tx, result };
}

/**
 * TypeORM's SQLite drivers share one connection and one query runner across
 * the whole process, so two overlapping `dataSource.transaction` calls would
 * nest as savepoints of each other and a rollback of one would undo the
 * other. Here transactions take turns, and a statement from outside the
 * running transaction waits for it to end, so nobody reads uncommitted rows.
 * Write transactions begin IMMEDIATE (see below). `tables` are the rows of the
 * first two lock levels. `outbox` receives the
 * published events of each `run` (none: they are dropped, for tools that
 * publish nothing).
 */
export function createUnitOfWork<A>(dataSource: DataSource, tables: LockTables, outbox: EventOutbox | null = null): UnitOfWork<A> {
  const transaction = turnTaking(dataSource);
  const context: TxContext<A> = { tables, listeners: new Map(), writer: null };
  return {
    transaction,
    async run(work) {
      let published: AnyBusEvent[] = [];
      const value = await transaction(async (manager) => {
        const { tx, result } = createTx(manager, context);
        const value = await work(tx);
        result.end();
        if (outbox && result.events.length) await outbox.write(manager, result.events);
        // Last, so that the entries of listeners and of the work all go in together.
        if (result.prepared.length) await context.writer!.write(manager, result.prepared);
        published = result.events;
        return value;
      });
      if (outbox && published.length) outbox.publish(published);
      return value;
    },
    on(topic, listener) {
      const listeners = context.listeners.get(topic) ?? [];
      context.listeners.set(topic, listeners);
      listeners.push(listener as TxListener<A, never>);
    },
    auditWith(writer) {
      context.writer = writer as AuditWriter<A, unknown>;
    },
  };
}

function turnTaking(dataSource: DataSource): <T>(work: Work<T>) => Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return (work) => dataSource.transaction(work);
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

  return <T>(work: Work<T>): Promise<T> => {
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
  };
}
