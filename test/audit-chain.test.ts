import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNamedType } from 'graphql';
import { IsNull, Not, type DataSource } from 'typeorm';
import { AuditAction } from '../src/modules/audit/audit-action';
import { chainHash, GENESIS_HASH } from '../src/modules/audit/audit-chain';
import { AuditEvent, AuditEventOrganisation, AuditEventPatient } from '../src/modules/audit/audit-event.entity';
import { signCheckpoint } from '../src/modules/audit/audit-checkpoint';
import { AuditCheckpoint } from '../src/modules/audit/audit-checkpoint.entity';
import { keyIdOf } from '../src/modules/audit/audit-signing-key';
import { describeReport, intact, verifyChain, type ChainReport, type VerifyOptions } from '../src/modules/audit/audit-verify';
import { getSchema } from '../src/schema';
import { dropAppendOnlyTriggers, sql, table } from './support/audit-tampering';
import { runCli } from './support/cli';
import { until } from './support/live';
import { codes, ok } from './support/graphql';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// The audit trail is a SHA-256 hash chain (src/modules/audit/audit-chain.ts),
// sealed shortly after commit by the sealer (audit-sealer.ts) with signed
// checkpoints, append-only by database triggers (migrations 1766000000000-audit-chain,
// 1772300000000-audit-sealing), and verifyChain / `npm run audit:verify` find the
// first broken link or checkpoint. Runs on SQLite, and on PostgreSQL with
// `npm run test:pg` (one schema per server).

const READ = `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { id } } } } }`;
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
  expect(await codes(world.server.url, SendMessageDocument, { threadId, body: 'let me in' }, outsider.token)).toEqual(['NOT_FOUND']);
  await world.setAutoCc(team, false);
  await world.as(world.admin, TRAIL, { t: threadId });
  return { a, b, gp, pat, outsider, threadId, staffThreadId };
}

/** The sealed events in chain order. */
const events = (db: DataSource) => db.getRepository(AuditEvent).find({ where: { chainSeq: Not(IsNull()) }, order: { chainSeq: 'ASC' } });

/** Seals everything written so far and signs a checkpoint of it, as the sealer does within a second. */
async function seal(server: TestServer): Promise<void> {
  expect(await server.app.auditSealer.sealAll(true)).not.toBeNull();
}

async function patientsByEvent(db: DataSource): Promise<Map<number, string[]>> {
  const byEvent = new Map<number, string[]>();
  for (const { eventId, patientId } of await db.getRepository(AuditEventPatient).find()) byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), patientId]);
  return byEvent;
}

/** An event's organisations: its own; these tests' clinic is one organisation, so none are linked beyond it (checked below). */
const organisationsOf = (row: AuditEvent) => (row.organisationId ? [row.organisationId] : []);

/** The server's checkpoint key, by database: what audit:verify is configured with. */
const keys = new WeakMap<DataSource, TestServer>();
const publicKey = (db: DataSource) => keys.get(db)!.app.auditSealer.publicKey;

/** verifyChain, checked to give the same answer when it reads a few events at a time (links across chunk boundaries). */
async function verify(db: DataSource, options: Partial<VerifyOptions> = {}): Promise<ChainReport> {
  const report = await verifyChain(db, { publicKey: publicKey(db), ...options });
  expect(await verifyChain(db, { publicKey: publicKey(db), ...options, chunkSize: 4 })).toEqual(report);
  return report;
}

async function expectIntact(db: DataSource): Promise<void> {
  const rows = await events(db);
  const report = await verify(db);
  expect(report).toMatchObject({ events: rows.length, head: rows[rows.length - 1].hash, broken: null, checkpointProblem: null });
  expect(intact(report)).toBe(true);
}

/** Values that never share a prevHash: each event has its own predecessor. */
async function sharedPredecessors(db: DataSource): Promise<unknown[]> {
  return db
    .getRepository(AuditEvent)
    .createQueryBuilder('e')
    .select('e.prevHash', 'prevHash')
    .addSelect('COUNT(*)', 'n')
    .where('e.chainSeq IS NOT NULL')
    .groupBy('e.prevHash')
    .having('COUNT(*) > 1')
    .getRawMany();
}

describe('the audit trail of a busy clinic', () => {
  let server: TestServer;
  let world: World;
  let clinic: Clinic;

  beforeAll(async () => {
    server = await startTestServer();
    keys.set(server.app.db, server);
    world = await World.create(server);
    clinic = await busyClinic(world);
    await seal(server);
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
      expect(row.hash).toBe(chainHash(row.prevHash!, { ...row, patientIds: patients.get(row.id) ?? [], organisationIds: organisationsOf(row) }));
    });
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    // One organisation: every event names it, and none names another.
    expect(new Set(rows.map((r) => r.organisationId)).size).toBe(1);
    expect(rows[0].organisationId).not.toBeNull();
    expect(await db.getRepository(AuditEventOrganisation).count()).toBe(0);
    // The patient thread's events name the patient; the staff thread's none.
    const ofThread = (threadId: string) => rows.filter((r) => r.threadId === threadId);
    expect(ofThread(clinic.threadId).every((r) => patients.get(r.id)?.includes(clinic.pat.id))).toBe(true);
    expect(ofThread(clinic.staffThreadId).some((r) => patients.has(r.id))).toBe(false);
    expect(rows.some((r) => r.outcome === 'DENIED')).toBe(true);

    rows.forEach((row, i) => expect(row.chainSeq).toBe(i + 1));
    const report = await verify(db);
    expect(report).toMatchObject({ events: rows.length, head: rows[rows.length - 1].hash, broken: null, checkpointProblem: null, unsealed: { count: 0 } });
    expect(report.checkpoint).toMatchObject({ chainSeq: rows.length, headHash: report.head, keyId: keyIdOf(publicKey(db)) });
    expect(describeReport(report)).toEqual([
      `audit chain intact: ${rows.length} events, head ${report.head}`,
      `checkpoint: ${rows.length} events, head ${report.head}, signed ${report.checkpoint!.at.toISOString()} by key ${report.checkpoint!.keyId}`,
    ]);
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
    await seal(server);
    await expectIntact(server.app.db);
  });

  test('the database refuses UPDATE and DELETE on audit_events, audit_event_patients and audit_organisation_links (TRUNCATE too on PostgreSQL, INSERT OR REPLACE on SQLite)', async () => {
    const db = server.app.db;
    const [link] = await db.getRepository(AuditEventPatient).find({ take: 1 });
    const events = table(db, 'audit_events');
    const patients = table(db, 'audit_event_patients');
    const links = table(db, 'audit_organisation_links');
    expect(Number((await sql(db, `SELECT COUNT(*) AS n FROM ${links}`))[0].n)).toBeGreaterThan(0);
    const before = await verify(db);
    const attempts: [string, unknown[]][] = [
      [`UPDATE ${events} SET "action" = 'THREAD_READ' WHERE "id" = ?`, [link.eventId]],
      [`UPDATE ${events} SET "hash" = "hash"`, []],
      // A sealed event is never sealed again, nor unsealed.
      [`UPDATE ${events} SET "chainSeq" = "chainSeq" + 100000 WHERE "id" = ?`, [link.eventId]],
      [`UPDATE ${events} SET "chainSeq" = NULL, "prevHash" = '', "hash" = '' WHERE "id" = ?`, [link.eventId]],
      [`UPDATE ${table(db, 'audit_checkpoints')} SET "chainSeq" = 1`, []],
      [`DELETE FROM ${table(db, 'audit_checkpoints')}`, []],
      [`DELETE FROM ${events} WHERE "id" = ?`, [link.eventId]],
      [`DELETE FROM ${events}`, []],
      [`UPDATE ${patients} SET "patientId" = ? WHERE "eventId" = ?`, [clinic.gp.id, link.eventId]],
      [`DELETE FROM ${patients} WHERE "eventId" = ?`, [link.eventId]],
      [`DELETE FROM ${patients}`, []],
      [`UPDATE ${links} SET "hash" = "hash"`, []],
      [`DELETE FROM ${links} WHERE "eventId" = ?`, [link.eventId]],
      // An upsert is an UPDATE; on SQLite a REPLACE deletes without firing DELETE triggers, so inserts over a row are refused too.
      [`INSERT INTO ${events} SELECT * FROM ${events} WHERE "id" = ? ON CONFLICT ("id") DO UPDATE SET "action" = 'THREAD_READ'`, [link.eventId]],
      ...(db.options.type === 'postgres'
        ? ([
            [`TRUNCATE ${patients}`, []],
            [`TRUNCATE ${links}`, []],
            [`TRUNCATE ${events} CASCADE`, []],
          ] as [string, unknown[]][])
        : ([
            [`INSERT OR REPLACE INTO ${events} SELECT * FROM ${events} WHERE "id" = ?`, [link.eventId]],
            [`REPLACE INTO ${patients} SELECT * FROM ${patients} WHERE "eventId" = ?`, [link.eventId]],
            [`REPLACE INTO ${links} SELECT * FROM ${links} WHERE "eventId" = ?`, [link.eventId]],
          ] as [string, unknown[]][])),
    ];
    for (const [statement, params] of attempts) {
      await expect(sql(db, statement, params)).rejects.toThrow(APPEND_ONLY);
    }
    // Inserting new events is what the application does, so that still works (through record()).
    expect(await verify(db)).toEqual(before);
  });

  test('an unsealed event can be sealed, once, and nothing else about it changed', async () => {
    const db = server.app.db;
    const eventsTable = table(db, 'audit_events');
    const rolledBack = new Error('rolled back on purpose');
    const unsealed = async (work: (id: number, run: (text: string, params?: unknown[]) => Promise<unknown>) => Promise<void>) => {
      const outcome = server.app.uow.transaction(async (m) => {
        const run = (text: string, params: unknown[] = []) => {
          let n = 0;
          return m.query(db.options.type === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text, params);
        };
        const { identifiers } = await m.insert(AuditEvent, { ...(await events(db))[0], id: undefined, chainSeq: null, prevHash: null, hash: null });
        await work(identifiers[0].id as number, run);
        throw rolledBack;
      });
      return outcome.catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    };
    const seal = `UPDATE ${eventsTable} SET "chainSeq" = 999999, "prevHash" = ?, "hash" = ?`;
    await unsealed(async (id, run) => {
      await run(`${seal} WHERE "id" = ?`, [GENESIS_HASH, 'f'.repeat(64), id]);
    });
    await expect(unsealed((id, run) => run(`${seal}, "action" = 'THREAD_READ' WHERE "id" = ?`, [GENESIS_HASH, 'f'.repeat(64), id]).then(() => {}))).rejects.toThrow(APPEND_ONLY);
    await expect(unsealed((id, run) => run(`UPDATE ${eventsTable} SET "hash" = ? WHERE "id" = ?`, ['f'.repeat(64), id]).then(() => {}))).rejects.toThrow(APPEND_ONLY);
  });

  test('concurrent requests on one server all chain onto each other: no fork', async () => {
    const db = server.app.db;
    const before = (await events(db)).length;
    const { a, gp, pat, outsider, threadId, staffThreadId } = clinic;
    const url = server.url;
    const work = Array.from({ length: 60 }, (_, i) => {
      switch (i % 6) {
        case 0:
          return ok(url, SendMessageDocument, { threadId, body: `concurrent ${i}` }, a.token);
        case 1:
          return ok(url, READ, { t: threadId }, pat.token);
        case 2:
          return ok(url, SendMessageDocument, { threadId: staffThreadId, body: `staff ${i}` }, gp.token);
        case 3:
          return ok(url, MARK, { t: threadId }, gp.token);
        case 4:
          return codes(url, SendMessageDocument, { threadId: staffThreadId, body: 'no' }, outsider.token);
        default:
          return ok(url, TRAIL, { t: threadId }, world.admin.token);
      }
    });
    await Promise.all(work);
    await seal(server);
    const rows = await events(db);
    expect(rows.length).toBeGreaterThanOrEqual(before + 60);
    await expectIntact(db);
    expect(await sharedPredecessors(db)).toEqual([]);
  });

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: two servers on the same schema writing at once cannot fork the chain; one seals, the other takes over when it stops', async () => {
    const db = server.app.db;
    const schema = (db.options as { schema?: string }).schema!;
    // Given DATABASE_URL, startTestServer makes no schema of its own and drops none: this one shares the first server's.
    const second = await startTestServer({ DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: schema, INSTANCE_ID: 'second-instance' });
    keys.set(second.app.db, second);
    try {
      const before = (await events(db)).length;
      const { a, gp, pat, threadId, staffThreadId } = clinic;
      const work = Array.from({ length: 80 }, (_, i) => {
        const url = i % 2 ? second.url : server.url;
        switch (i % 4) {
          case 0:
          case 1:
            return ok(url, SendMessageDocument, { threadId, body: `from ${url} ${i}` }, a.token);
          case 2:
            return ok(url, READ, { t: threadId }, pat.token);
          default:
            return ok(url, SendMessageDocument, { threadId: staffThreadId, body: `staff ${i}` }, gp.token);
        }
      });
      await Promise.all(work);
      // The first server took the sealing turn at its start and keeps it: the second never seals meanwhile.
      expect(await second.app.auditSealer.sealAll(true)).toBeNull();
      await seal(server);
      const rows = await events(db);
      expect(rows.length).toBeGreaterThanOrEqual(before + 80);
      expect(new Set(rows.slice(before).map((r) => r.instanceId))).toEqual(new Set([server.app.config.instanceId, 'second-instance']));
      await expectIntact(db);
      await expectIntact(second.app.db);
      expect(await sharedPredecessors(db)).toEqual([]);

      // The first's sealer stops (as at shutdown; the server stays, its schema is the shared one): the second takes the turn over.
      await server.app.auditSealer.stop();
      const messageId = (await ok(second.url, SendMessageDocument, { threadId, body: 'after the first stopped' }, a.token)).sendMessage.id;
      const repository = second.app.db.getRepository(AuditEvent);
      await until(async () => (await repository.findOneBy({ messageId, action: AuditAction.MessageSent }))?.chainSeq != null, 10_000, 'the second server did not take the sealing over');
      await second.app.auditSealer.sealAll(true);
      await expectIntact(second.app.db);
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
    keys.set(server.app.db, server);
    clinic = await busyClinic(await World.create(server), 'Tamper');
    await seal(server);
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
  /** Sets every column but the id and the place in the chain. */
  const overwrite = (id: number, row: Record<string, unknown>) => {
    const { id: _, chainSeq: __, ...content } = row;
    return sql(db, `UPDATE ${table(db, 'audit_events')} SET ${columns(content).map((c) => `${c} = ?`)} WHERE "id" = ?`, [...Object.values(content), id]);
  };
  const setColumn = (id: number, column: string, value: unknown) => sql(db, `UPDATE ${table(db, 'audit_events')} SET "${column}" = ? WHERE "id" = ?`, [value, id]);

  /** `at`: how many events come before the break (by default, before the event in the untouched chain). */
  async function expectBroken(eventId: number, problem: RegExp, at = rows.findIndex((r) => r.id === eventId)): Promise<string> {
    const report = await verify(db);
    expect(report.broken).toEqual({ eventId, problem: expect.stringMatching(problem) });
    expect(report.events).toBe(at);
    const [line] = describeReport(report);
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
    const forged = chainHash(event.prevHash!, { ...event, actorId: clinic.outsider.id, patientIds: patients.get(event.id) ?? [], organisationIds: organisationsOf(event) });
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

  test('deleting the newest event is caught by the signed checkpoint; an anchored head is still checked', async () => {
    const { head, checkpoint } = await verify(db);
    const last = rows[rows.length - 1];
    expect(checkpoint).toMatchObject({ chainSeq: last.chainSeq, headHash: head });
    const saved = await raw(last.id);
    const links = patients.get(last.id) ?? [];
    await sql(db, `DELETE FROM ${table(db, 'audit_event_patients')} WHERE "eventId" = ?`, [last.id]);
    await sql(db, `DELETE FROM ${table(db, 'audit_events')} WHERE "id" = ?`, [last.id]);
    try {
      const report = await verify(db);
      expect(report.broken).toBeNull();
      expect(report.checkpointProblem).toBe(`it was signed over ${rows.length} events; the chain has ${rows.length - 1}: the newest events were removed`);
      expect(intact(report)).toBe(false);
      expect(describeReport(report)[1]).toMatch(/^audit checkpoint broken: it was signed over/);
      const anchored = await verify(db, { anchor: head });
      expect(anchored).toMatchObject({ broken: null, anchorEventId: null });
      expect(describeReport(anchored)[0]).toMatch(/^audit chain broken: it does not contain the anchored hash/);
    } finally {
      await insertRaw(saved);
      for (const patientId of links) {
        await sql(db, `INSERT INTO ${table(db, 'audit_event_patients')} ("eventId", "patientId") VALUES (?, ?)`, [last.id, patientId]);
      }
    }
    const report = await verify(db, { anchor: rows[3].hash! });
    expect(report).toMatchObject({ broken: null, anchorEventId: rows[3].id });
    expect(intact(report)).toBe(true);
  });

  test('a forged checkpoint is caught: a signature that does not hold, another key, a head the chain does not have', async () => {
    const latest = (await verify(db)).checkpoint!;
    const checkpoints = table(db, 'audit_checkpoints');
    const forge = async (row: Omit<AuditCheckpoint, 'id' | 'organisationId'>, problem: string | RegExp) => {
      const { identifiers } = await db.getRepository(AuditCheckpoint).insert(row);
      try {
        const report = await verify(db);
        expect(report.broken).toBeNull();
        expect(report.checkpointProblem).toEqual(typeof problem === 'string' ? problem : expect.stringMatching(problem));
        expect(intact(report)).toBe(false);
      } finally {
        await sql(db, `DELETE FROM ${checkpoints} WHERE "id" = ?`, [identifiers[0].id]);
      }
    };
    const other = generateKeyPairSync('ed25519');
    const otherKey = { ...other, keyId: keyIdOf(other.publicKey) };
    // The latest checkpoint is the one with the longest chain, the newest of those: each forgery below is it.
    await forge({ ...latest, at: new Date() }, 'its signature does not hold: it was forged or changed');
    await forge({ ...latest, chainSeq: latest.chainSeq + 1 }, 'its signature does not hold: it was forged or changed');
    await forge(signCheckpoint(otherKey, { chainSeq: latest.chainSeq, headHash: latest.headHash }), `it names key ${otherKey.keyId}, not the configured key ${keyIdOf(publicKey(db))}`);
    await forge({ ...signCheckpoint(otherKey, { chainSeq: latest.chainSeq, headHash: latest.headHash }), keyId: latest.keyId }, 'its signature does not hold: it was forged or changed');
    // Signed with the right key (stolen), over a head the chain does not have.
    const serverKey = (server.app.auditSealer as unknown as { key: Parameters<typeof signCheckpoint>[0] }).key;
    await forge(
      signCheckpoint(serverKey, { chainSeq: latest.chainSeq, headHash: 'e'.repeat(64) }),
      `the chain's event ${latest.chainSeq} hashes ${latest.headHash}, not the signed ${'e'.repeat(64)}: the chain was rewritten`,
    );
  });

  test('a kept checkpoint proves that nothing up to it changed, even with every hash after a change recomputed', async () => {
    const kept = (await verify(db)).checkpoint!;
    expect((await verify(db, { kept })).keptProblem).toBeNull();
    expect(describeReport(await verify(db, { kept }))).toContain('kept checkpoint holds: nothing up to it changed');
    // Rewrite from the middle: change an event, then recompute every hash after it, as someone with the database (not the key) could.
    const from = Math.floor(rows.length / 2);
    const rechain = async (actorId: string) => {
      let prevHash = rows[from - 1].hash!;
      for (const row of rows.slice(from)) {
        const hash = chainHash(prevHash, { ...row, actorId: row === rows[from] ? actorId : row.actorId, patientIds: patients.get(row.id) ?? [], organisationIds: organisationsOf(row) });
        await sql(db, `UPDATE ${table(db, 'audit_events')} SET "prevHash" = ?, "hash" = ?, "actorId" = ? WHERE "id" = ?`, [prevHash, hash, row === rows[from] ? actorId : row.actorId, row.id]);
        prevHash = hash;
      }
    };
    await rechain(clinic.outsider.id);
    try {
      const report = await verify(db, { kept });
      expect(report.broken).toBeNull();
      expect(report.keptProblem).toMatch(/^the chain's event \d+ hashes [0-9a-f]{64}, not the signed [0-9a-f]{64}: the chain was rewritten$/);
      expect(intact(report)).toBe(false);
    } finally {
      await rechain(rows[from].actorId);
    }
    const forged = { ...kept, headHash: 'e'.repeat(64) };
    expect((await verify(db, { kept: forged })).keptProblem).toBe('its signature does not hold: it was forged or changed');
  });

  test('reordering is caught: two events swapping places in the chain, or swapping contents', async () => {
    const i = rows.findIndex((r, k) => k > 0 && k < rows.length - 2 && unlinked(r) && unlinked(rows[k + 1]));
    expect(i).toBeGreaterThan(0);
    const [a, b] = [rows[i], rows[i + 1]];
    const swapPlaces = async () => {
      const [seqA, seqB] = [(await raw(a.id)).chainSeq, (await raw(b.id)).chainSeq];
      await setColumn(a.id, 'chainSeq', -1);
      await setColumn(b.id, 'chainSeq', seqA);
      await setColumn(a.id, 'chainSeq', seqB);
    };
    await swapPlaces();
    try {
      await expectBroken(b.id, link(rows[i - 1].id), i);
    } finally {
      await swapPlaces();
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
      const world = await World.create(server);
      const clinic = await busyClinic(world, 'Cli');
      await seal(server);
      const report = await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey });
      const { events: count, head } = report;
      const env = { DATABASE_URL: `sqlite:${file}` };

      // The development key the server made next to the database is the one the command checks with.
      expect(readFileSync(join(dir, 'audit-signing-key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const kept = join(dir, 'kept-checkpoint.json');
      const good = await cli(env, ['--export', kept]);
      expect(good).toEqual({ code: 0, stdout: `${describeReport(report).join('\n')}\n`, stderr: '' });
      expect(good.stdout).toMatch(new RegExp(`^audit chain intact: ${count} events, head ${head}\ncheckpoint: ${count} events, head ${head}, signed `));
      expect(JSON.parse(readFileSync(kept, 'utf8'))).toMatchObject({ chainSeq: count, headHash: head });
      const anchored = await cli(env, ['--anchor', head]);
      expect(anchored.code).toBe(0);
      expect(anchored.stdout).toContain(`the anchored hash is event ${count}'s`);

      // Later, with more events: the kept checkpoint still holds.
      await world.send(clinic.a, clinic.threadId, 'later');
      await seal(server);
      const later = await cli(env, ['--checkpoint', kept]);
      expect(later.code).toBe(0);
      expect(later.stdout).toContain('\nkept checkpoint holds: nothing up to it changed\n');
      writeFileSync(kept, readFileSync(kept, 'utf8').replace(/"headHash":"[0-9a-f]/, '"headHash":"x'));
      expect(await cli(env, ['--checkpoint', kept])).toMatchObject({ code: 2, stderr: expect.stringContaining('a kept checkpoint needs chainSeq, headHash') });

      await dropAppendOnlyTriggers(server.app.db);
      const [event] = await server.app.db.getRepository(AuditEvent).find({ where: { action: AuditAction.MessageSent }, order: { id: 'ASC' }, take: 1 });
      await sql(server.app.db, `UPDATE "audit_events" SET "at" = ? WHERE "id" = ?`, ['2020-01-01 00:00:00.000', event.id]);
      const bad = await cli(env);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe(`audit chain broken at event ${event.id}: the event's content does not match its hash: it was changed after it was written\n`);
      // Unsealed events are reported, and fail the run once older than the bound: the sealer stopped.
      await server.app.auditSealer.stop();
      await world.send(clinic.a, clinic.threadId, 'not sealed');
      await sql(server.app.db, `UPDATE "audit_events" SET "at" = ? WHERE "id" = ?`, [event.at.toISOString().replace('T', ' ').replace('Z', ''), event.id]);
      const unsealed = await cli(env);
      expect(unsealed.code).toBe(0);
      expect(unsealed.stdout).toMatch(/\nnot sealed yet: \d+ events, the oldest \d+ s old\n$/);
      expect(await cli(env, ['--max-unsealed-seconds', '0'])).toMatchObject({ code: 1, stdout: expect.stringMatching(/\naudit sealing stalled: \d+ events, the oldest \d+ s old\n$/) });
    } finally {
      await server.close();
    }
  }, 180_000);

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
      await World.create(server);
      await seal(server);
      const report = await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey });
      const run = await cli({ DATABASE_URL: TEST_POSTGRES_URL!, DATABASE_SCHEMA: schema });
      expect(run).toEqual({ code: 0, stdout: `${describeReport(report).join('\n')}\n`, stderr: '' });
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
