import type { EntityManager } from 'typeorm';
import { createTx, LockOrder, LockOrderError, type TxContext } from '../../src/database/unit-of-work';

// The lock order every transaction keeps: teams < threads < inbox items.
// Taking a lower level after a higher one is a programming error, thrown before any statement runs.

/** A SQLite-like manager that records statements instead of running them. */
function fakeManager() {
  const statements: string[] = [];
  const builder = {
    update: () => builder,
    set: () => builder,
    where: () => builder,
    execute: async () => statements.push('UPDATE threads'),
  };
  const manager = { connection: { options: { type: 'better-sqlite3' } }, createQueryBuilder: () => builder } as unknown as EntityManager;
  return { manager, statements };
}

const context = (): TxContext<string> => ({ tables: { teams: 'Team', threads: 'Thread' }, listeners: new Map(), writer: null });
const TEAM = '00000000-0000-4000-8000-000000000001';
const OTHER_TEAM = '00000000-0000-4000-8000-000000000002';

describe('LockOrder', () => {
  test('levels in order, each as often as needed, are fine', () => {
    const order = new LockOrder();
    for (const level of ['teams', 'teams', 'threads', 'threads', 'inboxItems', 'inboxItems'] as const) order.enter(level);
  });

  test.each([
    ['threads', 'teams'],
    ['inboxItems', 'threads'],
    ['inboxItems', 'teams'],
  ] as const)('%s then %s throws LockOrderError', (first, then) => {
    const order = new LockOrder();
    order.enter(first);
    expect(() => order.enter(then)).toThrow(LockOrderError);
    expect(() => order.enter(then)).toThrow(`a transaction took the ${then} lock after the ${first} lock`);
  });
});

describe('a transaction (Tx) keeps the lock order', () => {
  test('teams, threads, then inbox items: every lock is taken', async () => {
    const { manager, statements } = fakeManager();
    const { tx } = createTx(manager, context());
    await tx.lockTeams([TEAM], 'read');
    await tx.lockThreads(['b', 'a']);
    expect(await tx.lockInboxItems(async () => 'items')).toBe('items');
    expect(statements).toEqual(['UPDATE threads', 'UPDATE threads']);
  });

  test('a thread after an inbox item, or a team after a thread, throws before any statement runs', async () => {
    const { manager, statements } = fakeManager();
    const { tx } = createTx(manager, context());
    await tx.lockInboxItems(async () => null);
    await expect(tx.lockThreads(['t1'])).rejects.toThrow(LockOrderError);
    expect(statements).toEqual([]);

    const other = createTx(manager, context()).tx;
    await other.lockThreads(['t1']);
    await expect(other.lockTeams([TEAM], 'change')).rejects.toThrow(LockOrderError);
  });

  test('taking again a lock it holds is fine anywhere in the order (it waits for nobody)', async () => {
    const { manager, statements } = fakeManager();
    const { tx } = createTx(manager, context());
    await tx.lockTeams([TEAM], 'change');
    await tx.lockThreads(['t1']);
    await tx.lockInboxItems(async () => null);
    await tx.lockThreads(['t1']);
    await tx.lockTeams([TEAM], 'change');
    expect(await tx.advanceThread('t1', async () => 'numbered')).toBe('numbered');
    expect(statements).toEqual(['UPDATE threads']);
    await expect(tx.lockTeams([OTHER_TEAM], 'change')).rejects.toThrow(LockOrderError);
    await expect(tx.advanceThread('t2', async () => null)).rejects.toThrow(LockOrderError);
  });

  test('listeners run inside the emitting transaction and keep to the same order', async () => {
    const { manager } = fakeManager();
    const ctx = context();
    ctx.listeners.set('TEAM_WAITING_LIMIT_CHANGED', [async (tx) => void (await tx.lockInboxItems(async () => null))]);
    const { tx, result } = createTx(manager, ctx);
    await tx.emit('TEAM_WAITING_LIMIT_CHANGED', { teamId: TEAM });
    await expect(tx.lockThreads(['t1'])).rejects.toThrow(LockOrderError);
    // An in-transaction event is not published.
    expect(result.events).toEqual([]);
  });

  test('published events are collected in the order emitted; audit entries are prepared as they come and written by the unit of work', async () => {
    const { manager } = fakeManager();
    const prepared: string[][] = [];
    const ctx: TxContext<string> = {
      ...context(),
      writer: { prepare: async (_m, entries) => (prepared.push(entries), entries.map((e) => `prepared ${e}`)), write: async () => undefined },
    };
    const { tx, result } = createTx(manager, ctx);
    await tx.emit('USER_DISABLED', { userId: 'u1' });
    await tx.audit('first', 'second');
    await tx.emit('USER_DISABLED', { userId: 'u2' });
    expect(result.events.map((e) => [e.topic, e.payload])).toEqual([
      ['USER_DISABLED', { userId: 'u1' }],
      ['USER_DISABLED', { userId: 'u2' }],
    ]);
    expect(new Set(result.events.map((e) => e.id)).size).toBe(2);
    expect(prepared).toEqual([['first', 'second']]);
    expect(result.prepared).toEqual(['prepared first', 'prepared second']);
  });

  test('a transaction used after its work ended throws', async () => {
    const { manager } = fakeManager();
    const { tx, result } = createTx(manager, context());
    result.end();
    await expect(tx.emit('USER_DISABLED', { userId: 'u1' })).rejects.toThrow(LockOrderError);
    await expect(tx.lockTeams([TEAM], 'read')).rejects.toThrow(LockOrderError);
  });
});
