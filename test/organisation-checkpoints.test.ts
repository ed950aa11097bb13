import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsNull, Not } from 'typeorm';
import { chainHash, organisationLinkHash } from '../src/modules/audit/audit-chain';
import { importCheckpoint, signatureHolds } from '../src/modules/audit/audit-checkpoint';
import { chainedContents } from '../src/modules/audit/audit-contents';
import { AuditCheckpoint } from '../src/modules/audit/audit-checkpoint.entity';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { AuditOrganisationLink } from '../src/modules/audit/audit-organisation-link.entity';
import { verifyOrganisationChain } from '../src/modules/audit/audit-organisation-verify';
import { ofOrganisation } from '../src/modules/audit/audit-scope';
import { keyIdOf } from '../src/modules/audit/audit-signing-key';
import { describeReport, intact, verifyChain, type ChainReport, type VerifyOptions } from '../src/modules/audit/audit-verify';
import { dropAppendOnlyTriggers, sql, table } from './support/audit-tampering';
import { runCli } from './support/cli';
import { failure } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// Issue 18: each organisation has its own audit chain (audit_organisation_links) and signed
// checkpoints of it, so it can verify its own log without anyone else's events: the sealer links
// every sealed event into the chains of the organisations it concerns, verifyOrganisationChain and
// `audit:verify --organisation` check one, and an admin fetches their organisation's checkpoint
// (auditCheckpoint) to keep outside CareThread.

const CHECKPOINT = `{ auditCheckpoint { organisationId events headHash at keyId signature publicKey exported } }`;

interface TwoOrganisations {
  server: TestServer;
  world: World;
  a: string;
  b: string;
  adminB: Person;
  proA: Person;
  proB: Person;
  pat: Person;
  wardA: TeamRef;
  wardB: TeamRef;
  threadA: string;
  threadB: string;
}

/** Two organisations, each with its own threads, and a thread a patient opened to both. */
async function twoOrganisations(server: TestServer): Promise<TwoOrganisations> {
  const world = await World.create(server);
  const proA = await world.professional('Chain Pro A');
  const proA2 = await world.professional('Chain Pro A2');
  const other = await world.organisation('Chain Hospital B', { autoCcAllowed: true });
  const proB = await other.world.professional('Chain Pro B');
  const proB2 = await other.world.professional('Chain Pro B2');
  const wardA = await world.team('Chain Ward A', { autoCc: true, members: [proA] });
  const wardB = await other.world.team('Chain Ward B', { autoCc: true, members: [proB] });
  const pat = await world.patient('Chain Pat');
  await world.share(pat, wardA);
  await world.share(pat, wardB);
  const threadA = await world.thread(proA, [asRecipient(proA2)], 'Among A');
  await world.send(proA2, threadA, 'Noted');
  const both = await world.thread(pat, [asRecipient(wardA), asRecipient(wardB)], 'To both hospitals');
  await world.send(proB, both, 'Hospital B here');
  const threadB = await other.world.thread(proB, [asRecipient(proB2)], 'Among B');
  const a = (await world.as(world.admin, '{ me { organisation { id } } }')).me.organisation.id;
  return { server, world, a, b: other.id, adminB: other.world.admin, proA, proB, pat, wardA, wardB, threadA, threadB };
}

const seal = async (server: TestServer) => expect(await server.app.auditSealer.sealAll(true)).not.toBeNull();

/** verifyOrganisationChain, checked to give the same answer when it reads a few links at a time. */
async function verifyOrganisation(server: TestServer, organisationId: string, options: Partial<VerifyOptions> = {}): Promise<ChainReport> {
  const db = server.app.db;
  const report = await verifyOrganisationChain(db, organisationId, { publicKey: server.app.auditSealer.publicKey, ...options });
  expect(await verifyOrganisationChain(db, organisationId, { publicKey: server.app.auditSealer.publicKey, ...options, chunkSize: 3 })).toEqual(report);
  return report;
}

/** The sealed events an organisation's admin searches, in chain order: what its chain must link. */
async function eventsOf(server: TestServer, organisationId: string): Promise<number[]> {
  const q = server.app.db.manager.createQueryBuilder(AuditEvent, 'e').select('e.id', 'id').where('e.chainSeq IS NOT NULL').orderBy('e.chainSeq', 'ASC');
  return (await ofOrganisation(q, organisationId).getRawMany<{ id: number }>()).map((r) => Number(r.id));
}

async function linksOf(server: TestServer, organisationId: string): Promise<AuditOrganisationLink[]> {
  return server.app.db.manager.find(AuditOrganisationLink, { where: { organisationId }, order: { orgSeq: 'ASC' } });
}

describe('each organisation has its own chain', () => {
  let o: TwoOrganisations;

  beforeAll(async () => {
    o = await twoOrganisations(await startTestServer());
    await seal(o.server);
  });
  afterAll(() => o.server.close());

  test("an organisation's chain links exactly the events its admins search, in chain order, and verifies on its own", async () => {
    const events = await o.server.app.db.manager.find(AuditEvent, { where: { chainSeq: Not(IsNull()) }, order: { chainSeq: 'ASC' } });
    const chainSeqOf = new Map(events.map((e) => [e.id, e.chainSeq]));
    for (const organisationId of [o.a, o.b]) {
      const expected = await eventsOf(o.server, organisationId);
      const links = await linksOf(o.server, organisationId);
      expect(links.map((l) => l.eventId)).toEqual(expected);
      expect(links.map((l) => l.orgSeq)).toEqual(expected.map((_, i) => i + 1));
      expect(links.every((l) => l.chainSeq === chainSeqOf.get(l.eventId))).toBe(true);

      const report = await verifyOrganisation(o.server, organisationId);
      expect(report).toMatchObject({ organisationId, events: expected.length, head: links[links.length - 1].hash, broken: null, checkpointProblem: null });
      expect(report.checkpoint).toMatchObject({ organisationId, chainSeq: expected.length, headHash: report.head });
      expect(intact(report)).toBe(true);
      expect(describeReport(report)).toEqual([
        `organisation ${organisationId}'s audit chain intact: ${expected.length} events, head ${report.head}`,
        `checkpoint: ${expected.length} events, head ${report.head}, signed ${report.checkpoint!.at.toISOString()} by key ${report.checkpoint!.keyId}`,
      ]);
    }
    // The thread across both is in both chains; each organisation has events the other does not.
    const [ofA, ofB] = [await eventsOf(o.server, o.a), await eventsOf(o.server, o.b)];
    const shared = ofA.filter((id) => ofB.includes(id));
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.length).toBeLessThan(Math.min(ofA.length, ofB.length));
    // Every sealed event is in some organisation's chain; the whole chain's checkpoint is unchanged in kind.
    expect(new Set([...ofA, ...ofB]).size).toBe(events.length);
    const whole = await verifyChain(o.server.app.db, { publicKey: o.server.app.auditSealer.publicKey });
    expect(whole).toMatchObject({ organisationId: null, events: events.length, broken: null, checkpointProblem: null });
    expect(whole.checkpoint).not.toHaveProperty('organisationId');
  });

  test("an admin fetches their organisation's latest checkpoint, which the public key given with it verifies; nobody else may", async () => {
    await o.world.send(o.proB, o.threadB, 'One more, signed within a second');
    await seal(o.server);
    const { auditCheckpoint: c } = await o.world.as(o.adminB, CHECKPOINT);
    const report = await verifyOrganisation(o.server, o.b);
    expect(c).toMatchObject({ organisationId: o.b, events: report.events, headHash: report.head, keyId: keyIdOf(o.server.app.auditSealer.publicKey) });
    const kept = importCheckpoint(c.exported);
    expect(kept).toEqual({ organisationId: o.b, chainSeq: c.events, headHash: c.headHash, at: new Date(c.at), keyId: c.keyId, signature: c.signature });
    expect(signatureHolds(createPublicKey(c.publicKey), kept)).toBe(true);
    // The signature covers the organisation: the same head claimed for another does not hold.
    expect(signatureHolds(createPublicKey(c.publicKey), { ...kept, organisationId: o.a })).toBe(false);

    expect((await o.world.as(o.world.admin, CHECKPOINT)).auditCheckpoint).toMatchObject({ organisationId: o.a, events: (await eventsOf(o.server, o.a)).length });
    for (const someone of [o.proA, o.proB, o.pat]) {
      expect(await failure(o.server.url, CHECKPOINT, {}, someone.token)).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    }
  });

  test('events sealed before the chains existed (an upgrade) are linked by the sealer, to the same heads, however many rounds it takes', async () => {
    // Past one round's batch of 200 events.
    for (let i = 0; i < 200; i++) await o.world.send(o.proA, o.threadA, `Batch ${i}`);
    await seal(o.server);
    const before = { a: await verifyOrganisation(o.server, o.a), b: await verifyOrganisation(o.server, o.b) };
    expect(before.a.events).toBeGreaterThan(200);
    const db = o.server.app.db;
    await o.server.app.auditSealer.stop();
    await dropAppendOnlyTriggers(db);
    await sql(db, `DELETE FROM ${table(db, 'audit_organisation_links')}`);
    await sql(db, `DELETE FROM ${table(db, 'audit_checkpoints')} WHERE "organisationId" IS NOT NULL`);
    // A sealer taking the turn anew finds nothing linked, as after the migration, and links it all in one call.
    await seal(o.server);
    for (const [organisationId, earlier] of [[o.a, before.a], [o.b, before.b]] as const) {
      const report = await verifyOrganisation(o.server, organisationId);
      expect(report).toMatchObject({ events: earlier.events, head: earlier.head, broken: null, checkpointProblem: null });
    }
  });

  test('an organisation with no event yet has no checkpoint', async () => {
    await o.server.app.auditSealer.stop();
    // Creating it is its first event; before the sealer runs, there is nothing signed.
    const empty = await o.world.organisation('Chain Clinic C');
    expect((await empty.world.as(empty.world.admin, CHECKPOINT)).auditCheckpoint).toBeNull();
    await seal(o.server);
    expect((await empty.world.as(empty.world.admin, CHECKPOINT)).auditCheckpoint).toMatchObject({ organisationId: empty.id, events: (await eventsOf(o.server, empty.id)).length });
  });
});

describe("tampering with an organisation's chain is caught, in its own chain only", () => {
  let o: TwoOrganisations;
  let linksA: AuditOrganisationLink[];
  let onlyA: AuditOrganisationLink;
  const db = () => o.server.app.db;
  const links = () => table(db(), 'audit_organisation_links');

  beforeAll(async () => {
    o = await twoOrganisations(await startTestServer());
    await seal(o.server);
    // The last event is the second organisation's alone: the first's last link is not the last link of all.
    expect((await eventsOf(o.server, o.a)).length).toBeLessThan((await verifyChain(db(), { publicKey: o.server.app.auditSealer.publicKey })).events);
    await o.server.app.auditSealer.stop();
    await dropAppendOnlyTriggers(db());
    linksA = await linksOf(o.server, o.a);
    const ofB = new Set(await eventsOf(o.server, o.b));
    onlyA = linksA.slice(1, -1).find((l) => !ofB.has(l.eventId))!;
  });
  afterAll(() => o.server.close());
  // Each test undoes its tampering; both chains must then hold again, which shows that exactly that change was caught.
  afterEach(async () => {
    for (const organisationId of [o.a, o.b]) expect(intact(await verifyOrganisation(o.server, organisationId))).toBe(true);
  });

  /** The first organisation's chain is broken at `eventId`; the second's holds, unless the change moved an event into it. */
  const brokenAt = async (eventId: number, problem: string | RegExp, { otherBroken = false } = {}) => {
    const report = await verifyOrganisation(o.server, o.a);
    expect(report.broken).toEqual({ eventId, problem: typeof problem === 'string' ? problem : expect.stringMatching(problem) });
    expect(intact(report)).toBe(false);
    expect(intact(await verifyOrganisation(o.server, o.b))).toBe(!otherBroken);
  };

  test("an event of the first organisation changed: its chain breaks there, the second's holds", async () => {
    const [{ reason }] = await sql(db(), `SELECT "reason" FROM ${table(db(), 'audit_events')} WHERE "id" = ?`, [onlyA.eventId]);
    await sql(db(), `UPDATE ${table(db(), 'audit_events')} SET "reason" = 'edited' WHERE "id" = ?`, [onlyA.eventId]);
    await brokenAt(onlyA.eventId, "the event's content does not match its hash: it was changed after it was written");
    await sql(db(), `UPDATE ${table(db(), 'audit_events')} SET "reason" = ? WHERE "id" = ?`, [reason, onlyA.eventId]);
  });

  test('a link removed from the middle breaks the link after it; the last one removed is caught as unlinked', async () => {
    const remove = (l: AuditOrganisationLink) => sql(db(), `DELETE FROM ${links()} WHERE "organisationId" = ? AND "orgSeq" = ?`, [l.organisationId, l.orgSeq]);
    const restore = (l: AuditOrganisationLink) => db().manager.insert(AuditOrganisationLink, l);
    const after = linksA[linksA.indexOf(onlyA) + 1];
    await remove(onlyA);
    await brokenAt(after.eventId, /^its link to the event before it of the organisation's chain is broken/);
    await restore(onlyA);

    const last = linksA[linksA.length - 1];
    await remove(last);
    await brokenAt(last.eventId, 'it concerns this organisation but is not in its chain: its link was removed');
    await restore(last);
  });

  test('an event moved to the other organisation breaks the first chain at it, and shows in the second as unlinked', async () => {
    await sql(db(), `UPDATE ${table(db(), 'audit_events')} SET "organisationId" = ? WHERE "id" = ?`, [o.b, onlyA.eventId]);
    const changed = "the event's content does not match its hash: it was changed after it was written";
    expect((await verifyOrganisation(o.server, o.a)).broken).toEqual({ eventId: onlyA.eventId, problem: changed });
    expect((await verifyOrganisation(o.server, o.b)).broken).toEqual({ eventId: onlyA.eventId, problem: 'it concerns this organisation but is not in its chain: its link was removed' });
    await sql(db(), `UPDATE ${table(db(), 'audit_events')} SET "organisationId" = ? WHERE "id" = ?`, [o.a, onlyA.eventId]);
  });

  test("an event moved to the other organisation, its hash and the first organisation's links after it recomputed, no longer concerns the first", async () => {
    const events = table(db(), 'audit_events');
    const [original] = await sql(db(), `SELECT "hash" FROM ${events} WHERE "id" = ?`, [onlyA.eventId]);
    const later = linksA.filter((l) => l.orgSeq >= onlyA.orgSeq);
    await sql(db(), `UPDATE ${events} SET "organisationId" = ? WHERE "id" = ?`, [o.b, onlyA.eventId]);
    // As whoever tampers without the key would: every hash the change touches, recomputed.
    const [moved] = await db().manager.findBy(AuditEvent, { id: onlyA.eventId });
    const [content] = await chainedContents(db().manager, [moved]);
    const rehashed = chainHash(moved.prevHash!, content);
    await sql(db(), `UPDATE ${events} SET "hash" = ? WHERE "id" = ?`, [rehashed, onlyA.eventId]);
    let head = linksA[onlyA.orgSeq - 2].hash;
    for (const link of later) {
      const [{ hash: eventHash }] = await sql(db(), `SELECT "hash" FROM ${events} WHERE "id" = ?`, [link.eventId]);
      head = organisationLinkHash(head, eventHash);
      await sql(db(), `UPDATE ${links()} SET "hash" = ? WHERE "organisationId" = ? AND "orgSeq" = ?`, [head, link.organisationId, link.orgSeq]);
    }
    await brokenAt(onlyA.eventId, 'it no longer concerns this organisation: its organisations were changed', { otherBroken: true });
    await sql(db(), `UPDATE ${events} SET "organisationId" = ?, "hash" = ? WHERE "id" = ?`, [o.a, original.hash, onlyA.eventId]);
    for (const link of later) await sql(db(), `UPDATE ${links()} SET "hash" = ? WHERE "organisationId" = ? AND "orgSeq" = ?`, [link.hash, link.organisationId, link.orgSeq]);
  });

  test("a checkpoint of the other organisation's, or a forged one, does not pass for the first's", async () => {
    const ofB = (await verifyOrganisation(o.server, o.b)).checkpoint!;
    const kept = await verifyOrganisation(o.server, o.a, { kept: ofB });
    expect(kept.keptProblem).toBe(`it is organisation ${o.b}'s checkpoint: check it with --organisation ${o.b}`);
    expect((await verifyChain(db(), { publicKey: o.server.app.auditSealer.publicKey, kept: ofB })).keptProblem).toBe(kept.keptProblem);

    const latestA = (await verifyOrganisation(o.server, o.a)).checkpoint!;
    const { identifiers } = await db().manager.insert(AuditCheckpoint, { ...ofB, organisationId: o.a, chainSeq: latestA.chainSeq, headHash: latestA.headHash });
    const forged = await verifyOrganisation(o.server, o.a);
    expect(forged.checkpointProblem).toBe('its signature does not hold: it was forged or changed');
    await sql(db(), `DELETE FROM ${table(db(), 'audit_checkpoints')} WHERE "id" = ?`, [identifiers[0].id]);
  });
});

test('npm run audit:verify -- --organisation <id> checks that organisation only, with its kept checkpoint; an unknown one is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-organisation-verify-'));
  try {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'audit.sqlite')}` };
    const o = await twoOrganisations(await startTestServer(env));
    try {
      await seal(o.server);
      const report = await verifyOrganisation(o.server, o.b);
      const keptB = join(dir, 'kept-b.json');
      const good = await runCli('audit-verify.ts', ['--organisation', o.b, '--export', keptB], env);
      expect(good).toEqual({ code: 0, stdout: `${describeReport(report).join('\n')}\n`, stderr: '' });
      const keptA = join(dir, 'kept-a.json');
      writeFileSync(keptA, (await o.world.as(o.world.admin, CHECKPOINT)).auditCheckpoint.exported);
      expect(await runCli('audit-verify.ts', ['--organisation', o.a, '--checkpoint', keptA], env)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('\nkept checkpoint holds: nothing up to it changed\n'),
      });
      expect(await runCli('audit-verify.ts', ['--organisation', o.a, '--checkpoint', keptB], env)).toMatchObject({
        code: 1,
        stdout: expect.stringContaining(`\nkept checkpoint broken: it is organisation ${o.b}'s checkpoint: check it with --organisation ${o.b}\n`),
      });
      expect(await runCli('audit-verify.ts', ['--organisation', 'no-such-organisation'], env)).toMatchObject({
        code: 2,
        stderr: 'audit chain not verified: no organisation has the id no-such-organisation\n',
      });
    } finally {
      await o.server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
