import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, In, IsNull, type DataSourceOptions } from 'typeorm';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/data-source';
import { AuditSealing1772300000000 } from '../src/migrations/1772300000000-audit-sealing';
import { chainHash, GENESIS_HASH, type ChainedContent } from '../src/modules/audit/audit-chain';
import { migrations } from '../src/tables';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent, AuditEventPatient } from '../src/modules/audit/audit-event.entity';
import { importCheckpoint, signatureHolds } from '../src/modules/audit/audit-checkpoint';
import { keyIdOf } from '../src/modules/audit/audit-signing-key';
import { verifyOrganisationChain } from '../src/modules/audit/audit-organisation-verify';
import { intact, verifyChain } from '../src/modules/audit/audit-verify';
import { Organisation } from '../src/modules/organisations/organisation.entity';
import { runCli } from './support/cli';
import { ok } from './support/graphql';
import { until } from './support/live';
import { memoryLogger } from './support/logs';
import { dropSchema, startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// The sealer (src/modules/audit/audit-sealer.ts) chains audit events shortly
// after they commit, off the writers' path: no audited transaction waits for
// another to write its events. SQLite, and PostgreSQL with TEST_DATABASE_URL.

const READ = `query($t: ID!) { thread(id: $t) { messages(first: 5) { edges { node { id } } } } }`;
/** Generous: the sealer seals within a second; a busy test machine may take longer. */
const SEALED_WITHIN_MS = 5_000;

const sentEvent = (db: DataSource, messageId: string) => db.getRepository(AuditEvent).findOneByOrFail({ messageId, action: AuditAction.MessageSent });

async function clinic(server: TestServer, label: string): Promise<{ world: World; dr: Person; pat: Person; threadId: string }> {
  const world = await World.create(server);
  const dr = await world.professional(`${label} Dr`);
  const pat = await world.patient(`${label} Pat`);
  await world.share(pat, dr);
  const threadId = await world.thread(pat, [asRecipient(dr)], 'Hello', `${label} subject`);
  return { world, dr, pat, threadId };
}

/** The PostgreSQL backends of a server's connection pool. */
function backendPids(db: DataSource): number[] {
  const pool = (db.driver as unknown as { master: { _clients: { processID: number }[] } }).master;
  return pool._clients.map((c) => c.processID);
}

async function expectIntact(server: TestServer): Promise<void> {
  await server.app.auditSealer.sealAll(true);
  const report = await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey });
  expect({ ...report, intact: intact(report) }).toMatchObject({ broken: null, checkpointProblem: null, unsealed: { count: 0 }, intact: true });
  // And each organisation's own chain, linked in the same rounds.
  for (const { id } of await server.app.db.manager.find(Organisation, { select: { id: true } })) {
    const own = await verifyOrganisationChain(server.app.db, id, { publicKey: server.app.auditSealer.publicKey });
    expect({ ...own, intact: intact(own) }).toMatchObject({ broken: null, checkpointProblem: null, intact: true });
  }
}

describe('one server', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  test('an event is inserted unsealed and sealed shortly after its commit, without anyone asking', async () => {
    const { dr, threadId } = await clinic(server, 'Soon');
    const sent = Date.now();
    const messageId = (await ok(server.url, SendMessageDocument, { threadId, body: 'hello' }, dr.token)).sendMessage.id;
    await until(async () => (await sentEvent(server.app.db, messageId)).chainSeq !== null, SEALED_WITHIN_MS, 'not sealed in time');
    const event = await sentEvent(server.app.db, messageId);
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.now() - sent).toBeLessThan(SEALED_WITHIN_MS);
    await expectIntact(server);
  });

  test('the reads of many requests at once are recorded together, each with its own request and its own thread\'s patient', async () => {
    const clinics = [await clinic(server, 'Burst'), await clinic(server, 'Burst two')];
    const reads = Array.from({ length: 12 }, (_, i) => ({ ...clinics[i % 2], requestId: `burst-read-${i}-${Date.now()}` }));
    await Promise.all(
      reads.map(async ({ pat, threadId, requestId }) => {
        const res = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${pat.token}`, 'x-request-id': requestId },
          body: JSON.stringify({ query: READ, variables: { t: threadId } }),
        });
        expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
      }),
    );
    for (const { pat, threadId } of clinics) {
      const events = await server.app.db.getRepository(AuditEvent).findBy({ action: AuditAction.ThreadRead, threadId, actorId: pat.id });
      expect(events.map((e) => e.requestId).sort()).toEqual(reads.filter((r) => r.threadId === threadId).map((r) => r.requestId).sort());
      // Written in multi-row INSERTs: each event is linked to its own thread's patient, and to no one else.
      const links = await server.app.db.getRepository(AuditEventPatient).findBy({ eventId: In(events.map((e) => e.id)) });
      expect(links.map((l) => `${l.eventId}:${l.patientId}`).sort()).toEqual(events.map((e) => `${e.id}:${pat.id}`).sort());
    }
    await expectIntact(server);
  });

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: a read is answered while a writer holds its thread and while another batch of reads is stuck committing', async () => {
    const held = await clinic(server, 'Held');
    const other = await clinic(server, 'Other');
    const db = server.app.db;
    const schema = (db.options as { schema?: string }).schema!;
    const key = randomBytes(4).readUInt32BE() >>> 1;
    // Inserting a THREAD_READ of the held thread waits for an advisory lock this test holds: its batch cannot commit.
    await db.query(
      `CREATE FUNCTION "${schema}".hold_reads() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         IF NEW."threadId" = '${held.threadId}' AND NEW.action = '${AuditAction.ThreadRead}' THEN PERFORM pg_advisory_xact_lock(${key}); END IF;
         RETURN NEW; END $$`,
    );
    await db.query(`CREATE TRIGGER hold_reads BEFORE INSERT ON "${schema}".audit_events FOR EACH ROW EXECUTE FUNCTION "${schema}".hold_reads()`);
    const lock = db.createQueryRunner();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let writing: Promise<void> | undefined;
    try {
      await lock.connect();
      await lock.query('SELECT pg_advisory_lock($1)', [key]);
      const stuck = ok(server.url, READ, { t: held.threadId }, held.pat.token);
      await until(async () => (await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND NOT granted`, [key])).length > 0);
      // A writer's transaction that has locked the other thread and stays open.
      let locked = false;
      writing = server.app.uow.run(async (tx) => {
        await tx.lockThreads([other.threadId]);
        locked = true;
        await gate;
      });
      await until(() => locked);
      const read = await ok<{ thread: { messages: { edges: unknown[] } } }>(server.url, READ, { t: other.threadId }, other.pat.token);
      expect(read.thread.messages.edges.length).toBeGreaterThan(0);
      expect(await db.getRepository(AuditEvent).countBy({ action: AuditAction.ThreadRead, threadId: other.threadId, actorId: other.pat.id })).toBe(1);
      await lock.query('SELECT pg_advisory_unlock($1)', [key]);
      await stuck;
    } finally {
      release();
      await writing;
      await lock.release();
      await db.query(`DROP TRIGGER hold_reads ON "${schema}".audit_events`);
      await db.query(`DROP FUNCTION "${schema}".hold_reads()`);
    }
    await expectIntact(server);
  });
});

test("without AUDIT_SIGNING_KEY: a development key is made next to the SQLite file, with a warning, and kept across restarts; with it, that key signs; rotated, the retired key's checkpoints still hold (AUDIT_RETIRED_KEYS)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-key-'));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'kept.sqlite')}` };
  const keyIds: string[] = [];
  const warnings: string[] = [];
  try {
    for (let start = 0; start < 2; start++) {
      const { logger, lines } = memoryLogger();
      const server = await startTestServer(env, { logger });
      keyIds.push(keyIdOf(server.app.auditSealer.publicKey));
      // Something to seal: its checkpoint is signed with this key at the latest when the server stops.
      await (await World.create(server)).professional(`Kept ${start}`);
      warnings.push(...lines.filter((l) => l.level === 40).map((l) => `${l.msg} (${String(l.file)})`));
      await server.close();
    }
    const file = join(dir, 'audit-signing-key.pem');
    expect(warnings).toEqual([
      `AUDIT_SIGNING_KEY is not set: made a development key for the audit checkpoints and kept it in this file (${file})`,
      `AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with the development key kept in this file (${file})`,
    ]);
    expect(keyIds[1]).toBe(keyIds[0]);
    expect(keyIdOf(createPublicKey(readFileSync(file, 'utf8')))).toBe(keyIds[0]);

    const configured = generateKeyPairSync('ed25519');
    const pem = configured.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const server = await startTestServer({ ...env, AUDIT_SIGNING_KEY: pem });
    try {
      expect(keyIdOf(server.app.auditSealer.publicKey)).toBe(keyIdOf(configured.publicKey));
      // The checkpoints signed before name the development key: verify says which, against the configured one.
      const report = await verifyChain(server.app.db, { publicKey: configured.publicKey });
      expect(report.checkpointProblem).toBe(`it names key ${keyIds[0]}, not the configured key ${keyIdOf(configured.publicKey)}`);
    } finally {
      await server.close();
    }

    // A rotation: the development key retired (AUDIT_RETIRED_KEYS). Sealing waits an hour, so the latest checkpoints are still its.
    const retired = createPublicKey(readFileSync(file, 'utf8'));
    const rotated = await startTestServer({ ...env, AUDIT_SIGNING_KEY: pem, AUDIT_RETIRED_KEYS: retired.export({ type: 'spki', format: 'pem' }) as string, AUDIT_SEAL_MS: '3600000' });
    try {
      expect(rotated.app.config.auditRetiredKeys.map(keyIdOf)).toEqual([keyIds[0]]);
      const report = await verifyChain(rotated.app.db, { publicKey: configured.publicKey, retiredKeys: rotated.app.config.auditRetiredKeys });
      expect({ ...report, intact: intact(report) }).toMatchObject({ checkpoint: { keyId: keyIds[0] }, checkpointProblem: null, intact: true });
      const other = generateKeyPairSync('ed25519').publicKey;
      expect((await verifyChain(rotated.app.db, { publicKey: configured.publicKey, retiredKeys: [other] })).checkpointProblem).toBe(
        `it names key ${keyIds[0]}, not the configured key ${keyIdOf(configured.publicKey)} nor a retired one (AUDIT_RETIRED_KEYS)`,
      );
      // An admin is given the key that signed their organisation's latest checkpoint, the retired one.
      const { auditCheckpoint } = await ok(rotated.url, '{ auditCheckpoint { keyId publicKey exported } }', {}, (await World.create(rotated)).admin.token);
      expect(auditCheckpoint.keyId).toBe(keyIds[0]);
      expect(signatureHolds(createPublicKey(auditCheckpoint.publicKey), importCheckpoint(auditCheckpoint.exported))).toBe(true);
      // npm run audit:verify reads the same settings.
      const cliEnv = { ...env, AUDIT_SIGNING_KEY: pem };
      expect((await runCli('audit-verify.ts', [], { ...cliEnv, AUDIT_RETIRED_KEYS: retired.export({ type: 'spki', format: 'pem' }) as string })).code).toBe(0);
      expect(await runCli('audit-verify.ts', [], cliEnv)).toMatchObject({ code: 1, stdout: expect.stringContaining(`audit checkpoint broken: it names key ${keyIds[0]}`) });
    } finally {
      await rotated.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chain written before sealing becomes the first sealed segment: its hashes stay, chainSeq in id order, new events chain on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-upgrade-'));
  const schema = `test_upgrade_${randomBytes(4).toString('hex')}`;
  const settings: Record<string, string> = TEST_POSTGRES_URL ? { DATABASE_URL: TEST_POSTGRES_URL, DATABASE_SCHEMA: schema } : { DATABASE_URL: `sqlite:${join(dir, 'old.sqlite')}` };
  const config = loadConfig(settings).database;
  try {
    // The database as the previous version left it: migrated up to before sealing, events chained in id order.
    const current = createDataSource(config);
    const old = new DataSource({ ...current.options, migrations: migrations.slice(0, migrations.indexOf(AuditSealing1772300000000)) } as DataSourceOptions);
    await old.initialize();
    if (config.type === 'postgres') await old.query(`CREATE SCHEMA "${schema}"`);
    await old.runMigrations({ transaction: 'all' });
    const postgres = config.type === 'postgres';
    const table = postgres ? `"${schema}"."audit_events"` : '"audit_events"';
    const actorId = '00000000-0000-4000-8000-0000000000a1';
    await old.query(
      `INSERT INTO ${postgres ? `"${schema}"."users"` : '"users"'} ("id", "email", "name", "kind", "contactable", "isAdmin", "passwordHash", "createdAt") VALUES (${postgres ? '$1, $2, $3, $4, $5, $6, $7, $8' : '?, ?, ?, ?, ?, ?, ?, ?'})`,
      [actorId, 'old-actor@clinic.example', 'Old Actor', 'PROFESSIONAL', postgres ? true : 1, postgres ? false : 0, 'x', postgres ? new Date() : '2026-01-01 00:00:00.000'],
    );
    let prevHash = GENESIS_HASH;
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const at = new Date(Date.UTC(2026, 0, 1, 9, i));
      const content = {
        at, action: AuditAction.ThreadRead, outcome: 'SUCCESS', reason: null, actorId, actorRole: 'PROFESSIONAL', actorTeamId: null, threadId: null,
        messageId: null, subjectUserId: null, patientId: null, teamId: null, recipients: null, requestId: null, clientIp: null, userAgent: null, instanceId: 'before-sealing', patientIds: [], organisationIds: [],
      } as unknown as ChainedContent;
      const hash = chainHash(prevHash, content);
      const values = [postgres ? at : at.toISOString().replace('T', ' ').replace('Z', ''), content.action, actorId, 'before-sealing', prevHash, hash];
      await old.query(
        `INSERT INTO ${table} ("at", "action", "outcome", "actorId", "actorRole", "instanceId", "prevHash", "hash") VALUES (${postgres ? '$1, $2' : '?, ?'}, 'SUCCESS', ${postgres ? '$3' : '?'}, 'PROFESSIONAL', ${postgres ? '$4, $5, $6' : '?, ?, ?'})`,
        values,
      );
      hashes.push(hash);
      prevHash = hash;
    }
    await old.destroy();

    const server = await startTestServer(settings);
    try {
      const before = await server.app.db.getRepository(AuditEvent).find({ where: { instanceId: 'before-sealing' }, order: { id: 'ASC' } });
      expect(before.map((e) => [e.chainSeq, e.hash])).toEqual(hashes.map((hash, i) => [i + 1, hash]));
      await (await World.create(server)).professional('After the upgrade');
      await expectIntact(server);
      const after = await server.app.db.getRepository(AuditEvent).findOneByOrFail({ chainSeq: 6 });
      expect(after.prevHash).toBe(hashes[4]);
    } finally {
      await server.close();
    }
  } finally {
    if (TEST_POSTGRES_URL) await dropSchema(TEST_POSTGRES_URL, schema);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('two servers on one database', () => {
  let dir: string;
  let first: TestServer;
  let second: TestServer | undefined;
  /** Both servers' log: a sealer that fails a round (say, over the other's links) logs an error and seals nothing that round. */
  const log = memoryLogger();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carethread-sealer-'));
    first = await startTestServer(TEST_POSTGRES_URL ? {} : { DATABASE_URL: `sqlite:${join(dir, 'two.sqlite')}` }, { logger: log.logger });
    const shared: Record<string, string> = TEST_POSTGRES_URL
      ? { DATABASE_URL: TEST_POSTGRES_URL, DATABASE_SCHEMA: (first.app.db.options as { schema?: string }).schema! }
      : { DATABASE_URL: `sqlite:${join(dir, 'two.sqlite')}` };
    second = await startTestServer({ ...shared, INSTANCE_ID: 'second-instance' }, { logger: log.logger });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('both write at once and one chain comes out: no chainSeq twice, no event sealed twice, none skipped', async () => {
    const { dr, pat, threadId } = await clinic(first, 'Both');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const url = i % 2 ? second!.url : first.url;
        return i % 4 === 3 ? ok(url, READ, { t: threadId }, pat.token) : ok(url, SendMessageDocument, { threadId, body: `from both ${i}` }, dr.token);
      }),
    );
    const events = first.app.db.getRepository(AuditEvent);
    await until(async () => (await events.countBy({ chainSeq: IsNull() })) === 0, SEALED_WITHIN_MS, 'not all sealed in time');
    const seqs = (await events.find({ select: { chainSeq: true } })).map((e) => e.chainSeq!).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await expectIntact(first);
    expect(log.lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  });

  (TEST_POSTGRES_URL ? test.skip : test)('SQLite: sealers that take turns round by round each carry on from what the other sealed and linked', async () => {
    // Every instance seals on SQLite, a round at a time: here strictly in turn, one send between rounds.
    await first.app.auditSealer.stop();
    await second!.app.auditSealer.stop();
    const { world, dr, threadId } = await clinic(first, 'Turns');
    for (const sealer of [first, second!, first, second!, first].map((s) => s.app.auditSealer)) {
      await world.send(dr, threadId, 'one more');
      expect(await sealer.sealAll(true)).toBeGreaterThan(0);
    }
    await expectIntact(first);
    expect(log.lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  });

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: sends hold no lock across instances; an event committing late, after higher ids, is sealed after them', async () => {
    const { dr, pat, threadId } = await clinic(first, 'Late');
    const db = first.app.db;
    // An audited transaction that has written its event (a lower id) and is still open.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let lateId = 0;
    const late = first.app.uow.transaction(async (m) => {
      const { identifiers } = await m.insert(AuditEvent, {
        at: new Date(),
        action: AuditAction.ThreadRead,
        outcome: 'SUCCESS' as AuditEvent['outcome'],
        actorId: pat.id,
        actorRole: 'PATIENT' as AuditEvent['actorRole'],
        threadId,
        instanceId: 'late-transaction',
      });
      lateId = identifiers[0].id as number;
      await gate;
    });
    await until(() => lateId > 0);

    // Meanwhile, every advisory lock the two servers' connections hold (other test runs share the database): only the sealer's may show.
    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const pids = [first, second!].flatMap((s) => backendPids(s.app.db));
        const locks: { classid: number }[] = await db.query(`SELECT classid::int AS classid FROM pg_locks WHERE locktype = 'advisory' AND pid = ANY($1)`, [pids]);
        for (const l of locks) seen.add(`${l.classid}`);
      }
    })();
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => ok(i % 2 ? second!.url : first.url, SendMessageDocument, { threadId, body: `while open ${i}` }, dr.token)),
    );
    const sentIds = sent.map((s) => s.sendMessage.id);
    // Sealed while the late transaction is still open: nobody waits for it.
    await until(async () => (await Promise.all(sentIds.map((id) => sentEvent(db, id)))).every((e) => e.chainSeq !== null), SEALED_WITHIN_MS, 'not sealed in time');
    watching = false;
    await watch;
    expect([...seen]).toEqual(['73182240']);

    release();
    await late;
    await until(async () => (await db.getRepository(AuditEvent).findOneByOrFail({ id: lateId })).chainSeq !== null, SEALED_WITHIN_MS, 'the late event was not sealed');
    const lateEvent = await db.getRepository(AuditEvent).findOneByOrFail({ id: lateId });
    const sentSeqs = (await Promise.all(sentIds.map((id) => sentEvent(db, id)))).map((e) => e.chainSeq!);
    expect(lateEvent.id).toBeLessThan(Math.min(...(await Promise.all(sentIds.map((id) => sentEvent(db, id)))).map((e) => e.id)));
    expect(lateEvent.chainSeq!).toBeGreaterThan(Math.max(...sentSeqs));
    await expectIntact(first);
  });

  (TEST_POSTGRES_URL ? test : test.skip)('PostgreSQL: when the sealer\'s connection dies, the turn is free again and sealing goes on', async () => {
    const { dr, threadId } = await clinic(first, 'Dies');
    const db = first.app.db;
    // Of these two servers' connections: test runs on other schemas hold their own sealer's lock.
    const holder = async () =>
      (
        (await db.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::int = 73182240 AND granted AND pid = ANY($1)`, [
          [first, second!].flatMap((s) => backendPids(s.app.db)),
        ])) as { pid: number }[]
      ).map((r) => r.pid);
    await until(async () => (await holder()).length === 1);
    const [pid] = await holder();
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    await until(async () => (await holder()).some((p) => p !== pid), 10_000, 'nobody took the sealing turn again');
    const messageId = (await ok(second!.url, SendMessageDocument, { threadId, body: 'after' }, dr.token)).sendMessage.id;
    await until(async () => (await sentEvent(db, messageId)).chainSeq !== null, 10_000, 'not sealed after the takeover');
    const sealer = (await first.app.auditSealer.sealAll(true)) === null ? second! : first;
    await expectIntact(sealer);
  });
});
