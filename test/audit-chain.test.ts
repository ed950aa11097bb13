import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNamedType } from 'graphql';
import type { DataSource } from 'typeorm';
import { AuditAction } from '../src/modules/audit/audit-action';
import { chainHash, GENESIS_HASH } from '../src/modules/audit/audit-chain';
import { AuditEvent, AuditEventPatient } from '../src/modules/audit/audit-event.entity';
import { describeReport, intact, verifyChain, type ChainReport } from '../src/modules/audit/audit-verify';
import { getSchema } from '../src/schema';
import { runCli } from './support/cli';
import { codes, ok } from './support/graphql';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';

// The audit trail is a SHA-256 hash chain (src/modules/audit/audit-chain.ts),
// append-only by database triggers (migration 1766000000000-audit-chain), and
// verifyChain / `npm run audit:verify` find the first broken link. Runs on
// SQLite, and on PostgreSQL with `npm run test:pg` (one schema per server).

const READ = `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { id } } } } }`;
const SEND = `mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }`;
const MARK = `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`;
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { id } }`;
const APPEND_ONLY = /audit events are append-only/;

interface Clinic {
  a: Person;
  b: Person;
  gp: Person;
  pat: Person;
  outsider: Person;
  threadId: string;
  staffThreadId: string;
}

/** Everything the audit records, through the API: users, teams, sharing, threads, messages, reads, leaving, a denial, a trail read. */
async function busyClinic(world: World, label = 'Chain'): Promise<Clinic> {
  const { a, b, team, pat } = await world.careTeam(label);
  const gp = await world.professional(`${label} GP`);
  await world.share(pat, gp);
  const outsider = await world.professional(`${label} Outsider`);
  const threadId = await world.thread(pat, [asRecipient(team)], 'Morning readings', 'Readings');
  await world.send(a, threadId, 'Seen, thanks');
  await world.as(b, READ, { t: threadId });
  await world.addParticipants(a, threadId, [gp]);
  await world.as(gp, MARK, { t: threadId });
  await world.leave(b, threadId);
  const staffThreadId = await world.thread(a, [asRecipient(gp)], 'Between us', 'Staff');
  await world.send(gp, staffThreadId, 'Agreed');
  expect(await codes(world.server.url, SEND, { t: threadId, b: 'let me in' }, outsider.token)).toEqual(['NOT_FOUND']);
  await world.setAutoCc(team, false);
  await world.as(world.admin, TRAIL, { t: threadId });
  return { a, b, gp, pat, outsider, threadId, staffThreadId };
}

/** A table's name for raw SQL: schema-qualified on PostgreSQL, where each test server has its own schema. */
function table(db: DataSource, name: string): string {
  const schema = db.options.type === 'postgres' ? db.options.schema : undefined;
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

/** Raw SQL with `?` placeholders on both databases. */
function sql<T = any>(db: DataSource, text: string, params: unknown[] = []): Promise<T> {
  let n = 0;
  return db.query(db.options.type === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text, params);
}

const events = (db: DataSource) => db.getRepository(AuditEvent).find({ order: { id: 'ASC' } });

async function patientsByEvent(db: DataSource): Promise<Map<number, string[]>> {
  const byEvent = new Map<number, string[]>();
  for (const { eventId, patientId } of await db.getRepository(AuditEventPatient).find()) byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), patientId]);
  return byEvent;
}

/** verifyChain, checked to give the same answer when it reads a few events at a time (links across chunk boundaries). */
async function verify(db: DataSource): Promise<ChainReport> {
  const report = await verifyChain(db);
  expect(await verifyChain(db, { chunkSize: 4 })).toEqual(report);
  return report;
}

async function expectIntact(db: DataSource): Promise<void> {
  const rows = await events(db);
  expect(await verify(db)).toEqual({ events: rows.length, head: rows[rows.length - 1].hash, broken: null });
}

/** Values that never share a prevHash: each event has its own predecessor. */
async function sharedPredecessors(db: DataSource): Promise<unknown[]> {
  return db
    .getRepository(AuditEvent)
    .createQueryBuilder('e')
    .select('e.prevHash', 'prevHash')
    .addSelect('COUNT(*)', 'n')
    .groupBy('e.prevHash')
    .having('COUNT(*) > 1')
    .getRawMany();
}

/** In this server's own database (schema on PostgreSQL) only. */
async function dropAppendOnlyTriggers(db: DataSource): Promise<void> {
  const tables = ['audit_events', 'audit_event_patients'];
  if (db.options.type === 'postgres') {
    const triggers: { name: string; table: string }[] = await sql(
      db,
      `SELECT t.tgname AS name, c.relname AS "table" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE NOT t.tgisinternal AND n.nspname = ? AND c.relname IN ('audit_events', 'audit_event_patients')`,
      [db.options.schema],
    );
    expect(triggers.length).toBeGreaterThanOrEqual(4);
    for (const t of triggers) await db.query(`DROP TRIGGER "${t.name}" ON ${table(db, t.table)}`);
  } else {
    const triggers: { name: string }[] = await db.query(
      `SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${tables.map((t) => `'${t}'`).join(', ')})`,
    );
    expect(triggers.length).toBeGreaterThanOrEqual(4);
    for (const t of triggers) await db.query(`DROP TRIGGER "${t.name}"`);
  }
}

describe('the audit trail of a busy clinic', () => {
  let server: TestServer;
  let world: World;
  let clinic: Clinic;

  beforeAll(async () => {
    server = await startTestServer();
    world = await World.create(server);
    clinic = await busyClinic(world);
  });
  afterAll(() => server?.close());

  test('is one hash chain: each event hashes the previous hash and its own content, patients included; verifyChain agrees', async () => {
    const db = server.app.db;
    const rows = await events(db);
    const patients = await patientsByEvent(db);
    expect(rows.length).toBeGreaterThan(25);
    expect(rows[0].prevHash).toBe(GENESIS_HASH);
    rows.forEach((row, i) => {
      if (i) expect(row.prevHash).toBe(rows[i - 1].hash);
      expect(row.hash).toBe(chainHash(row.prevHash, { ...row, patientIds: patients.get(row.id) ?? [] }));
    });
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    // The patient thread's events name the patient; the staff thread's none.
    const ofThread = (threadId: string) => rows.filter((r) => r.threadId === threadId);
    expect(ofThread(clinic.threadId).every((r) => patients.get(r.id)?.includes(clinic.pat.id))).toBe(true);
    expect(ofThread(clinic.staffThreadId).some((r) => patients.has(r.id))).toBe(false);
    expect(rows.some((r) => r.outcome === 'DENIED')).toBe(true);

    const report = await verify(db);
    expect(report).toEqual({ events: rows.length, head: rows[rows.length - 1].hash, broken: null });
    expect(describeReport(report)).toBe(`audit chain intact: ${rows.length} events, head ${report.head}`);
    expect(await sharedPredecessors(db)).toEqual([]);
  });

  test('whatever text a client sends, events are hashed as they are stored: a garbled thread id or user agent cannot break the chain', async () => {
    const outsider = await world.professional('Garbler');
    // A NUL or a lone surrogate is refused before any resolver runs; the rest are denied attempts on no thread.
    const garbled: [string, string][] = [['a'.repeat(35) + '😀', 'NOT_FOUND'], ['b'.repeat(30) + '\ud800', 'BAD_USER_INPUT'], ['nul\u0000id', 'BAD_USER_INPUT']];
    for (const [threadId, code] of garbled) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${outsider.token}`, 'user-agent': `agent ${threadId.length} \u00e9` },
        body: JSON.stringify({ query: 'mutation($t: ID!) { sendMessage(threadId: $t, body: "x") { id } }', variables: { t: threadId } }),
      });
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe(code);
    }
    await expectIntact(server.app.db);
  });

  test('the database refuses UPDATE and DELETE on audit_events and audit_event_patients (TRUNCATE too on PostgreSQL, INSERT OR REPLACE on SQLite)', async () => {
    const db = server.app.db;
    const [link] = await db.getRepository(AuditEventPatient).find({ take: 1 });
    const events = table(db, 'audit_events');
    const patients = table(db, 'audit_event_patients');
    const before = await verify(db);
    const attempts: [string, unknown[]][] = [
      [`UPDATE ${events} SET "action" = 'THREAD_READ' WHERE "id" = ?`, [link.eventId]],
      [`UPDATE ${events} SET "hash" = "hash"`, []],
      [`DELETE FROM ${events} WHERE "id" = ?`, [link.eventId]],
      [`DELETE FROM ${events}`, []],
      [`UPDATE ${patients} SET "patientId" = ? WHERE "eventId" = ?`, [clinic.gp.id, link.eventId]],
      [`DELETE FROM ${patients} WHERE "eventId" = ?`, [link.eventId]],
      [`DELETE FROM ${patients}`, []],
      // An upsert is an UPDATE; on SQLite a REPLACE deletes without firing DELETE triggers, so inserts over a row are refused too.
      [`INSERT INTO ${events} SELECT * FROM ${events} WHERE "id" = ? ON CONFLICT ("id") DO UPDATE SET "action" = 'THREAD_READ'`, [link.eventId]],
      ...(db.options.type === 'postgres'
        ? ([
            [`TRUNCATE ${patients}`, []],
            [`TRUNCATE ${events} CASCADE`, []],
          ] as [string, unknown[]][])
        : ([
            [`INSERT OR REPLACE INTO ${events} SELECT * FROM ${events} WHERE "id" = ?`, [link.eventId]],
            [`REPLACE INTO ${patients} SELECT * FROM ${patients} WHERE "eventId" = ?`, [link.eventId]],
          ] as [string, unknown[]][])),
    ];
    for (const [statement, params] of attempts) {
      await expect(sql(db, statement, params)).rejects.toThrow(APPEND_ONLY);
    }
    // Inserting new events is what the application does, so that still works (through record()).
    expect(await verify(db)).toEqual(before);
  });

  test('concurrent requests on one server all chain onto each other: no fork', async () => {
    const db = server.app.db;
    const before = (await events(db)).length;
    const { a, gp, pat, outsider, threadId, staffThreadId } = clinic;
    const url = server.url;
    const work = Array.from({ length: 60 }, (_, i) => {
      switch (i % 6) {
        case 0:
          return ok(url, SEND, { t: threadId, b: `concurrent ${i}` }, a.token);
        case 1:
          return ok(url, READ, { t: threadId }, pat.token);
        case 2:
          return ok(url, SEND, { t: staffThreadId, b: `staff ${i}` }, gp.token);
        case 3:
          return ok(url, MARK, { t: threadId }, gp.token);
        case 4:
          return codes(url, SEND, { t: staffThreadId, b: 'no' }, outsider.token);
        default:
          return ok(url, TRAIL, { t: threadId }, world.admin.token);
      }
    });
    await Promise.all(work);
    const rows = await events(db);
    expect(rows.length).toBeGreaterThanOrEqual(before + 60);
    await expectIntact(db);
    expect(await sharedPredecessors(db)).toEqual([]);
  });

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: two servers on the same schema writing at once cannot fork the chain', async () => {
    const db = server.app.db;
    const schema = (db.options as { schema?: string }).schema!;
    // Given DATABASE_URL, startTestServer makes no schema of its own and drops none: this one shares the first server's.
    const second = await startTestServer({ DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: schema, INSTANCE_ID: 'second-instance' });
    try {
      const before = (await events(db)).length;
      const { a, gp, pat, threadId, staffThreadId } = clinic;
      const work = Array.from({ length: 80 }, (_, i) => {
        const url = i % 2 ? second.url : server.url;
        switch (i % 4) {
          case 0:
          case 1:
            return ok(url, SEND, { t: threadId, b: `from ${url} ${i}` }, a.token);
          case 2:
            return ok(url, READ, { t: threadId }, pat.token);
          default:
            return ok(url, SEND, { t: staffThreadId, b: `staff ${i}` }, gp.token);
        }
      });
      await Promise.all(work);
      const rows = await events(db);
      expect(rows.length).toBeGreaterThanOrEqual(before + 80);
      expect(new Set(rows.slice(before).map((r) => r.instanceId))).toEqual(new Set([server.app.config.instanceId, 'second-instance']));
      await expectIntact(db);
      await expectIntact(second.app.db);
      expect(await sharedPredecessors(db)).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe('tampering is caught, with the triggers dropped', () => {
  let server: TestServer;
  let db: DataSource;
  let rows: AuditEvent[];
  let patients: Map<number, string[]>;
  let clinic: Clinic;

  beforeAll(async () => {
    server = await startTestServer();
    clinic = await busyClinic(await World.create(server), 'Tamper');
    db = server.app.db;
    await dropAppendOnlyTriggers(db);
    rows = await events(db);
    patients = await patientsByEvent(db);
  });
  afterAll(() => server?.close());
  // Each test undoes its tampering; the chain must then hold again, which shows that exactly that change was caught.
  afterEach(() => expectIntact(db));

  const unlinked = (row: AuditEvent) => !patients.has(row.id);
  /** Events in the middle of the chain (not the first, not the last) that meet `test`. */
  const middle = (test: (row: AuditEvent, i: number) => boolean) => rows.filter((r, i) => i > 0 && i < rows.length - 2 && test(r, i));
  const raw = async (id: number) => (await sql(db, `SELECT * FROM ${table(db, 'audit_events')} WHERE "id" = ?`, [id]))[0] as Record<string, unknown>;
  const columns = (row: Record<string, unknown>) => Object.keys(row).map((c) => `"${c}"`);
  const insertRaw = (row: Record<string, unknown>) =>
    sql(db, `INSERT INTO ${table(db, 'audit_events')} (${columns(row)}) VALUES (${columns(row).map(() => '?')})`, Object.values(row));
  /** Sets every column but the id. */
  const overwrite = (id: number, row: Record<string, unknown>) => {
    const { id: _, ...content } = row;
    return sql(db, `UPDATE ${table(db, 'audit_events')} SET ${columns(content).map((c) => `${c} = ?`)} WHERE "id" = ?`, [...Object.values(content), id]);
  };
  const setColumn = (id: number, column: string, value: unknown) => sql(db, `UPDATE ${table(db, 'audit_events')} SET "${column}" = ? WHERE "id" = ?`, [value, id]);

  async function expectBroken(eventId: number, problem: RegExp): Promise<string> {
    const report = await verify(db);
    expect(report.broken).toEqual({ eventId, problem: expect.stringMatching(problem) });
    expect(report.events).toBe(rows.findIndex((r) => r.id === eventId));
    const line = describeReport(report);
    expect(line).toMatch(new RegExp(`^audit chain broken at event ${eventId}: `));
    return line;
  }
  const CONTENT = /^the event's content does not match its hash: it was changed after it was written$/;
  const link = (before: number | 'start') =>
    new RegExp(`^its link to ${before === 'start' ? 'the start of the chain' : `event ${before}`} is broken: an event was removed, inserted or moved before it$`);

  test('editing one column of one event is caught at that event', async () => {
    const event = middle((r) => r.threadId === clinic.threadId && r.action === 'MESSAGE_SENT')[0];
    await setColumn(event.id, 'actorId', clinic.outsider.id);
    try {
      expect(await expectBroken(event.id, CONTENT)).toContain("content does not match its hash");
    } finally {
      await setColumn(event.id, 'actorId', event.actorId);
    }
    const denied = rows.find((r) => r.outcome === 'DENIED')!;
    await setColumn(denied.id, 'outcome', 'SUCCESS');
    try {
      await expectBroken(denied.id, CONTENT);
    } finally {
      await setColumn(denied.id, 'outcome', 'DENIED');
    }
  });

  test('editing an event and recomputing its hash is caught at the next event, whose link no longer fits', async () => {
    const i = rows.findIndex((r, k) => k > 0 && k < rows.length - 1 && r.action === 'THREAD_READ');
    const [event, next] = [rows[i], rows[i + 1]];
    const forged = chainHash(event.prevHash, { ...event, actorId: clinic.outsider.id, patientIds: patients.get(event.id) ?? [] });
    await setColumn(event.id, 'actorId', clinic.outsider.id);
    await setColumn(event.id, 'hash', forged);
    try {
      await expectBroken(next.id, link(event.id));
    } finally {
      await setColumn(event.id, 'actorId', event.actorId);
      await setColumn(event.id, 'hash', event.hash);
    }
  });

  test('deleting an event is caught at the next one; deleting the first, at the new first', async () => {
    const i = rows.indexOf(middle(unlinked)[0]);
    const [before, deleted, next] = rows.slice(i - 1, i + 2);
    const saved = await raw(deleted.id);
    await sql(db, `DELETE FROM ${table(db, 'audit_events')} WHERE "id" = ?`, [deleted.id]);
    try {
      const report = await verify(db);
      expect(report.broken).toEqual({ eventId: next.id, problem: expect.stringMatching(link(before.id)) });
      expect(report.events).toBe(i);
    } finally {
      await insertRaw(saved);
    }

    expect(unlinked(rows[0])).toBe(true);
    const first = await raw(rows[0].id);
    await sql(db, `DELETE FROM ${table(db, 'audit_events')} WHERE "id" = ?`, [rows[0].id]);
    try {
      const report = await verify(db);
      expect(report.broken).toEqual({ eventId: rows[1].id, problem: expect.stringMatching(link('start')) });
      expect(report.events).toBe(0);
    } finally {
      await insertRaw(first);
    }
  });

  test('deleting the newest events is caught only against a head kept from before: the anchor', async () => {
    const { head } = await verify(db);
    const last = rows[rows.length - 1];
    expect(last.hash).toBe(head);
    const saved = await raw(last.id);
    const links = patients.get(last.id) ?? [];
    await sql(db, `DELETE FROM ${table(db, 'audit_event_patients')} WHERE "eventId" = ?`, [last.id]);
    await sql(db, `DELETE FROM ${table(db, 'audit_events')} WHERE "id" = ?`, [last.id]);
    try {
      expect((await verify(db)).broken).toBeNull();
      const report = await verifyChain(db, { anchor: head });
      expect(report).toMatchObject({ broken: null, anchorEventId: null });
      expect(intact(report)).toBe(false);
      expect(describeReport(report)).toMatch(/^audit chain broken: it does not contain the anchored hash/);
    } finally {
      await insertRaw(saved);
      for (const patientId of links) {
        await sql(db, `INSERT INTO ${table(db, 'audit_event_patients')} ("eventId", "patientId") VALUES (?, ?)`, [last.id, patientId]);
      }
    }
    const report = await verifyChain(db, { anchor: rows[3].hash });
    expect(report).toMatchObject({ broken: null, anchorEventId: rows[3].id });
    expect(intact(report)).toBe(true);
  });

  test('reordering is caught: two events swapping ids, or swapping contents', async () => {
    const i = rows.findIndex((r, k) => k > 0 && k < rows.length - 2 && unlinked(r) && unlinked(rows[k + 1]));
    expect(i).toBeGreaterThan(0);
    const [a, b] = [rows[i], rows[i + 1]];
    const swapIds = async () => {
      await sql(db, `UPDATE ${table(db, 'audit_events')} SET "id" = ? WHERE "id" = ?`, [-a.id, a.id]);
      await sql(db, `UPDATE ${table(db, 'audit_events')} SET "id" = ? WHERE "id" = ?`, [a.id, b.id]);
      await sql(db, `UPDATE ${table(db, 'audit_events')} SET "id" = ? WHERE "id" = ?`, [b.id, -a.id]);
    };
    await swapIds();
    try {
      await expectBroken(a.id, link(rows[i - 1].id));
    } finally {
      await swapIds();
    }

    // Two events far apart, neither with patients: each keeps its own hash, so only the links show it.
    const [c, d] = [middle(unlinked)[0], middle(unlinked).pop()!];
    expect(d.id - c.id).toBeGreaterThan(2);
    const [rawC, rawD] = [await raw(c.id), await raw(d.id)];
    await overwrite(c.id, rawD);
    await overwrite(d.id, rawC);
    try {
      await expectBroken(c.id, link(rows[rows.indexOf(c) - 1].id));
    } finally {
      await overwrite(c.id, rawC);
      await overwrite(d.id, rawD);
    }
  });

  test("changing, removing or adding an event's patient link is caught at that event", async () => {
    const patientTable = table(db, 'audit_event_patients');
    const event = middle((r) => patients.get(r.id)?.length === 1)[0];
    const [patientId] = patients.get(event.id)!;

    await sql(db, `UPDATE ${patientTable} SET "patientId" = ? WHERE "eventId" = ?`, [clinic.outsider.id, event.id]);
    try {
      await expectBroken(event.id, CONTENT);
    } finally {
      await sql(db, `UPDATE ${patientTable} SET "patientId" = ? WHERE "eventId" = ?`, [patientId, event.id]);
    }

    await sql(db, `DELETE FROM ${patientTable} WHERE "eventId" = ?`, [event.id]);
    try {
      await expectBroken(event.id, CONTENT);
    } finally {
      await sql(db, `INSERT INTO ${patientTable} ("eventId", "patientId") VALUES (?, ?)`, [event.id, patientId]);
    }

    // Inserting is allowed by the triggers (the application inserts), yet still caught.
    const unrelated = middle(unlinked)[0];
    await sql(db, `INSERT INTO ${patientTable} ("eventId", "patientId") VALUES (?, ?)`, [unrelated.id, clinic.pat.id]);
    try {
      await expectBroken(unrelated.id, CONTENT);
    } finally {
      await sql(db, `DELETE FROM ${patientTable} WHERE "eventId" = ?`, [unrelated.id]);
    }
  });
});

describe('npm run audit:verify', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'carethread-verify-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (env: Record<string, string>, args: string[] = []) => runCli('audit-verify.ts', args, env);

  test('prints the intact chain (exit 0), then the broken event once a row is edited (exit 1)', async () => {
    const file = join(dir, 'audit.sqlite');
    const server = await startTestServer({ DATABASE_URL: `sqlite:${file}` });
    try {
      await busyClinic(await World.create(server), 'Cli');
      const { events: count, head } = await verifyChain(server.app.db);
      const env = { DATABASE_URL: `sqlite:${file}` };

      const good = await cli(env);
      expect(good).toEqual({ code: 0, stdout: `audit chain intact: ${count} events, head ${head}\n`, stderr: '' });
      const anchored = await cli(env, ['--anchor', head]);
      expect(anchored.code).toBe(0);
      expect(anchored.stdout).toContain(`the anchored hash is event ${count}'s`);

      await dropAppendOnlyTriggers(server.app.db);
      const [event] = await server.app.db.getRepository(AuditEvent).find({ where: { action: AuditAction.MessageSent }, order: { id: 'ASC' }, take: 1 });
      await sql(server.app.db, `UPDATE "audit_events" SET "at" = ? WHERE "id" = ?`, ['2020-01-01 00:00:00.000', event.id]);
      const bad = await cli(env);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe(`audit chain broken at event ${event.id}: the event's content does not match its hash: it was changed after it was written\n`);
    } finally {
      await server.close();
    }
  }, 60_000);

  test('exit 2 with one line when it cannot verify: bad setting, no file, an empty database (left untouched), a database it cannot reach', async () => {
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    const runs = await Promise.all([
      cli({ DATABASE_URL: 'mysql://nope' }),
      cli({ DATABASE_URL: `sqlite:${join(dir, 'missing.sqlite')}` }),
      cli({ DATABASE_URL: `sqlite:${empty}` }),
      cli({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }),
      cli({ DATABASE_URL: `sqlite:${empty}` }, ['--anchor', 'not-a-hash']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^audit chain not verified: [^\n]+\n$/);
    }
    expect(runs.map((r) => r.stderr)).toEqual([
      expect.stringContaining('DATABASE_URL: must look like'),
      expect.stringContaining('no database file at'),
      expect.stringContaining('has no CareThread tables'),
      expect.stringContaining('cannot open the database'),
      expect.stringContaining('usage:'),
    ]);
    expect(statSync(empty).size).toBe(0);
  }, 60_000);

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: reads DATABASE_URL and DATABASE_SCHEMA like the server', async () => {
    const server = await startTestServer();
    try {
      const schema = (server.app.db.options as { schema?: string }).schema!;
      const { events: count, head } = await verifyChain(server.app.db);
      const run = await cli({ DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: schema });
      expect(run).toEqual({ code: 0, stdout: `audit chain intact: ${count} events, head ${head}\n`, stderr: '' });
      const elsewhere = await cli({ DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: `${schema}_none` });
      expect(elsewhere.code).toBe(2);
      expect(elsewhere.stderr).toContain(`(schema ${schema}_none) has no CareThread tables`);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('no API path writes audit events', () => {
  test('no mutation is about audit events, returns one, or takes an audit type as argument', async () => {
    const schema = await getSchema();
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(5);
    expect(mutations.filter((m) => /audit/i.test(m.name)).map((m) => m.name)).toEqual([]);
    expect(mutations.filter((m) => getNamedType(m.type).name === 'AuditEvent').map((m) => m.name)).toEqual([]);
    const auditArgs = mutations.flatMap((m) => m.args.filter((a) => /audit/i.test(getNamedType(a.type).name)).map((a) => `${m.name}(${a.name})`));
    expect(auditArgs).toEqual([]);
  });
});
