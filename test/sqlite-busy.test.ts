import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { gql, ok } from './support/graphql';
import { QueryCounter } from './support/query-counter';
import { startTestServer, type TestServer } from './support/server';
import { World, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

const BUSY_TIMEOUT_MS = 300;

/** Set by a test to act while the server is between two statements (TypeORM logs each one just before running it). */
let interrupt: ((sql: string) => void) | null = null;
let inTransaction = false;
const statements = new (class extends QueryCounter {
  override logQuery(sql: string): void {
    if (/^BEGIN/.test(sql)) inTransaction = true;
    if (/^(COMMIT|ROLLBACK)/.test(sql)) inTransaction = false;
    interrupt?.(sql);
  }
})();

/** The embedded database as deployed: a file in WAL mode, which another process (a backup, the sqlite3 shell) may lock. */
describe('SQLite under a lock held by another connection', () => {
  let dir: string;
  let file: string;
  let server: TestServer;
  let world: World;
  let nurse: Person;
  let threadId: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carethread-busy-'));
    file = join(dir, 'carethread.sqlite');
    server = await startTestServer({ DATABASE_URL: `sqlite:${file}`, SQLITE_BUSY_TIMEOUT_MS: String(BUSY_TIMEOUT_MS) }, { queryLogger: statements });
    world = await World.create(server);
    nurse = await world.professional('Busy Nurse');
    const doctor = await world.professional('Busy Doctor');
    threadId = await world.thread(nurse, [{ userId: doctor.id }]);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (table: string) => Number((await server.app.db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  test('runs in WAL mode with the configured busy timeout', async () => {
    expect(await server.app.db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await server.app.db.query('PRAGMA busy_timeout')).toEqual([{ timeout: BUSY_TIMEOUT_MS }]);
  });

  test('a write that cannot get the lock in time fails with DATABASE_BUSY, writes nothing, and succeeds when sent again', async () => {
    const before = { messages: await count('messages'), audit: await count('audit_events') };
    let waitedMs = 0;
    const other = new Database(file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      const { errors, data } = await gql(server.url, SendMessageDocument, { threadId, body: 'Sent while locked', clientMessageId: 'busy-1' }, nurse.token);
      waitedMs = Date.now() - started;
      expect(waitedMs).toBeGreaterThanOrEqual(BUSY_TIMEOUT_MS - 50);
      expect(data).toBeNull();
      expect(errors).toMatchObject([
        { message: 'The database is busy; nothing was changed, send the request again', path: ['sendMessage'], extensions: { code: 'DATABASE_BUSY' } },
      ]);

      // WAL lets readers go on while another connection writes.
      await ok(server.url, '{ me { id } }', {}, nurse.token);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect({ messages: await count('messages'), audit: await count('audit_events') }).toEqual(before);

    const first = await ok(server.url, SendMessageDocument, { threadId, body: 'Sent while locked', clientMessageId: 'busy-1' }, nurse.token);
    const again = await ok(server.url, SendMessageDocument, { threadId, body: 'Sent while locked', clientMessageId: 'busy-1' }, nurse.token);
    expect(again.sendMessage.id).toBe(first.sendMessage.id);
    expect(await count('messages')).toBe(before.messages + 1);
    console.log(`SQLite lock: the send waited ${waitedMs} ms (busy_timeout ${BUSY_TIMEOUT_MS} ms), failed with DATABASE_BUSY, wrote 0 messages and 0 audit events; sent again, stored once`);
  });

  test('a write transaction holds the write lock from its first statement, so nobody can take it between its reads and its writes', async () => {
    const other = new Database(file, { timeout: 0 });
    const attempts: string[] = [];
    interrupt = (sql) => {
      if (attempts.length || !/^SELECT/.test(sql) || !inTransaction) return;
      try {
        other.exec('BEGIN IMMEDIATE');
        attempts.push('got the write lock inside the send');
        other.exec('ROLLBACK');
      } catch (error) {
        attempts.push((error as { code?: string }).code ?? String(error));
      }
    };
    try {
      await ok(server.url, SendMessageDocument, { threadId, body: 'Begun immediately', clientMessageId: 'immediate-1' }, nurse.token);
    } finally {
      interrupt = null;
      other.close();
    }
    expect(attempts).toEqual(['SQLITE_BUSY']);
  });
});
