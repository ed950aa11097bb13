import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent, AuditEventOrganisation, AuditOutcome, AuditRole } from '../src/modules/audit/audit-event.entity';
import { intact, verifyChain } from '../src/modules/audit/audit-verify';
import { User } from '../src/modules/users/user.entity';
import { failure } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// Issue 18: each audit event names the organisations it concerns (hashed with it), and an organisation's
// admin searches and reads trails of theirs only. Events from before organisations are the first's.

let server: TestServer;
let world: World;
let adminB: Person;
let proA: Person;
let proA2: Person;
let proB: Person;
let wardA: TeamRef;
let wardB: TeamRef;
let pat: Person;
let organisationA: string;
let organisationB: string;
let threadA: string;
let threadA2: string;
let threadAB: string;
let legacyEventId: number;

const SEARCH = `query($t: ID) { auditEvents(first: 100, filter: { threadId: $t }) { edges { node { id threadId action } } } }`;
const searched = async (admin: Person, threadId: string | null = null) =>
  (await world.as(admin, SEARCH, { t: threadId })).auditEvents.edges.map((e: { node: { id: string; threadId: string | null } }) => e.node);
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { id action } }`;

beforeAll(async () => {
  server = await startTestServer();
  world = await World.create(server);
  proA = await world.professional('Pro A');
  proA2 = await world.professional('Pro A2');
  const b = await world.organisation('Hospital B', { autoCcAllowed: true });
  organisationB = b.id;
  adminB = b.world.admin;
  proB = await b.world.professional('Pro B');
  wardA = await world.team('Ward A', { autoCc: true, members: [proA] });
  wardB = await b.world.team('Ward B', { autoCc: true, members: [proB] });
  pat = await world.patient('Pat Both');
  organisationA = (await server.app.db.manager.findOneByOrFail(User, { id: proA.id })).organisationId!;
  await world.share(pat, wardA);
  await world.share(pat, wardB);
  threadA = await world.thread(proA, [asRecipient(proA2)], 'Among A');
  threadA2 = await world.thread(proA2, [asRecipient(wardA)], 'Among A, never searched by B');
  threadAB = await world.thread(pat, [asRecipient(wardA), asRecipient(wardB)], 'To both hospitals');
  // An event as one written before organisations: it names none.
  const [legacy] = await server.app.db.manager.save(AuditEvent, [
    Object.assign(new AuditEvent(), {
      at: new Date(),
      actorId: proA.id,
      actorRole: AuditRole.PROFESSIONAL,
      actorTeamId: null,
      action: AuditAction.ThreadRead,
      outcome: AuditOutcome.SUCCESS,
      reason: null,
      threadId: null,
      messageId: null,
      subjectUserId: null,
      patientId: null,
      teamId: null,
      recipients: null,
      requestId: null,
      clientIp: null,
      userAgent: null,
      instanceId: 'before-organisations',
      organisationId: null,
      chainSeq: null,
      prevHash: null,
      hash: null,
    }),
  ]);
  legacyEventId = legacy.id;
});
afterAll(() => server.close());

test('events name the organisations they concern: one for a thread within one, both for a thread across two (the first in the row, the other linked)', async () => {
  const m = server.app.db.manager;
  const ofThread = async (threadId: string) => {
    const events = await m.find(AuditEvent, { where: { threadId } });
    const links = await m.find(AuditEventOrganisation);
    return events.map((e) => [e.organisationId, ...links.filter((l) => l.eventId === e.id).map((l) => l.organisationId)]);
  };
  expect(new Set((await ofThread(threadA)).map((o) => JSON.stringify(o)))).toEqual(new Set([JSON.stringify([organisationA])]));
  const both = [organisationA, organisationB].sort();
  expect(new Set((await ofThread(threadAB)).map((o) => JSON.stringify(o)))).toEqual(new Set([JSON.stringify(both)]));
});

test('the chain holds with them: sealed and verified, the organisations hashed with each event', async () => {
  await server.app.auditSealer.sealAll(true);
  const report = await verifyChain(server.app.db, { publicKey: server.app.auditSealer.publicKey });
  expect({ broken: report.broken, intact: intact(report) }).toEqual({ broken: null, intact: true });
});

test("an admin's search finds their organisation's events, those of a thread across it, and none of another's", async () => {
  const seenByB = await searched(adminB);
  expect(seenByB.some((e: { threadId: string | null }) => e.threadId === threadAB)).toBe(true);
  expect(seenByB.some((e: { threadId: string | null }) => e.threadId === threadA)).toBe(false);
  // A search is recorded first, naming the thread asked about: B's admin finds that search of theirs, and nothing else of it.
  expect((await searched(adminB, threadA)).map((e: { action: string }) => e.action)).toEqual([AuditAction.AuditSearched]);
  expect(seenByB.some((e: { id: string }) => e.id === String(legacyEventId))).toBe(false);

  const seenByA = await searched(world.admin);
  expect(seenByA.some((e: { threadId: string | null }) => e.threadId === threadA)).toBe(true);
  expect(seenByA.some((e: { threadId: string | null }) => e.threadId === threadAB)).toBe(true);
  // From before organisations: the first organisation's, everything having moved into it.
  expect(seenByA.some((e: { id: string }) => e.id === String(legacyEventId))).toBe(true);
});

test("an admin reads the trail of a thread their organisation is in; another organisation's thread is NOT_FOUND, as an unknown one", async () => {
  expect((await world.as(adminB, TRAIL, { t: threadAB })).auditTrail.length).toBeGreaterThan(0);
  for (const t of [threadA2, '00000000-0000-4000-8000-000000000000']) {
    const error = await failure(server.url, TRAIL, { t }, adminB.token);
    expect([error.extensions?.code, error.message]).toEqual(['NOT_FOUND', 'Thread not found']);
  }
  expect((await world.as(world.admin, TRAIL, { t: threadA })).auditTrail.length).toBeGreaterThan(0);
});
