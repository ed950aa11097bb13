import { DEFAULT_ORGANISATION_NAME, Organisations1773000000000 } from '../src/migrations/1773000000000-organisations';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { DirectoryFileError } from '../src/modules/directory/directory-file';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { Organisation } from '../src/modules/organisations/organisation.entity';
import { TeamMember } from '../src/modules/teams/team-member.entity';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { migrations } from '../src/tables';
import { earlierRelease } from './support/earlier-release';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { sharedDatabase } from './support/shared-database';
import { failure } from './support/graphql';
import { offered } from './support/recipients';
import { asRecipient, useWorld, World, type Person, type TeamRef } from './support/world';

// Issue 18: every professional and every team belongs to one organisation, patients to none; what a
// database held before moves into one; professionals reach only their organisation, and another only
// through a patient's care network.

const ORGANISATIONS = `query { me { organisation { id name } } teams { name organisation { id name } } }`;

describe('on a new database', () => {
  const env = useWorld();

  test('there is one organisation, and the start-up admin belongs to it', async () => {
    const organisations = await env.server.app.db.manager.find(Organisation);
    expect(organisations.map((o) => o.name)).toEqual([DEFAULT_ORGANISATION_NAME]);
    const { me } = await env.world.as(env.world.admin, ORGANISATIONS);
    expect(me.organisation).toEqual({ id: organisations[0].id, name: DEFAULT_ORGANISATION_NAME });
  });

  test("professionals and teams an admin creates join the admin's organisation; a patient joins none", async () => {
    const { me: admin } = await env.world.as(env.world.admin, ORGANISATIONS);
    const professional = await env.world.professional('Dr Member');
    const patient = await env.world.patient('Pat Nobody');
    await env.world.team('Members', { members: [professional] });

    expect((await env.world.as(professional, ORGANISATIONS)).me.organisation).toEqual(admin.organisation);
    const seenByPatient = await env.world.as(patient, `query { me { organisation { id } } }`);
    expect(seenByPatient.me.organisation).toBeNull();
    const { teams } = await env.world.as(professional, ORGANISATIONS);
    expect(teams).toContainEqual({ name: 'Members', organisation: admin.organisation });
  });

  test("a directory import puts its professionals and teams in the importing admin's organisation, its patients in none", async () => {
    const admin = await env.server.app.db.manager.findOneByOrFail(User, { id: env.world.admin.id });
    await new DirectoryImport({ uow: env.server.app.uow }).run(admin, {
      professionals: [{ where: 'professionals[0]', email: 'imported-pro@clinic.example', name: 'Imported Pro', passwordHash: null, contactable: true, isAdmin: false }],
      patients: [{ where: 'patients[0]', email: 'imported-pat@clinic.example', name: 'Imported Pat', passwordHash: null }],
      teams: [{ where: 'teams[0]', name: 'Imported team', autoCc: false, members: [] }],
      shares: [],
    });
    const m = env.server.app.db.manager;
    expect((await m.findOneByOrFail(User, { email: 'imported-pro@clinic.example' })).organisationId).toBe(admin.organisationId);
    expect(await m.findOneByOrFail(User, { email: 'imported-pat@clinic.example' })).toMatchObject({ organisationId: null, registeredByOrganisationId: admin.organisationId });
    expect((await m.findOneByOrFail(Team, { name: 'Imported team' })).organisationId).toBe(admin.organisationId);
  });
});

test('on a database from before organisations: its professionals and teams move into one organisation, its patients into none', async () => {
  const database = sharedDatabase('organisations-upgrade');
  try {
    // Its admin is the one ADMIN_EMAIL names: they become the platform admin.
    await earlierRelease(database, migrations.slice(0, migrations.indexOf(Organisations1773000000000)), async (db, table, at) => {
      await db.query(`INSERT INTO ${table('users')} ("id", "email", "name", "kind", "contactable", "isAdmin", "passwordHash", "createdAt")
        VALUES ('u-old-admin', '${ADMIN.email}', 'Old Admin', 'PROFESSIONAL', false, true, 'x', ${at})`);
    });
    const server = await startTestServer(database.env);
    try {
      const m = server.app.db.manager;
      const [organisation, ...others] = await m.find(Organisation);
      expect(others).toEqual([]);
      expect(organisation.name).toBe(DEFAULT_ORGANISATION_NAME);
      const users = await m.find(User, { select: { email: true, organisationId: true, registeredByOrganisationId: true, isPlatformAdmin: true }, order: { email: 'ASC' } });
      expect(users).toEqual([
        { email: ADMIN.email, organisationId: organisation.id, registeredByOrganisationId: null, isPlatformAdmin: true },
        { email: 'pat@old.example', organisationId: null, registeredByOrganisationId: organisation.id, isPlatformAdmin: false },
        { email: 'pro@old.example', organisationId: organisation.id, registeredByOrganisationId: null, isPlatformAdmin: false },
      ]);
      expect(await m.findBy(AuditEvent, { action: AuditAction.PlatformAdminGranted })).toMatchObject([{ actorId: 'u-old-admin', subjectUserId: 'u-old-admin', organisationId: organisation.id }]);
      expect(await m.findOneByOrFail(Team, { id: 't-old' })).toMatchObject({ name: 'Old Team', autoCc: true, organisationId: organisation.id });
      // Nothing that referred to the rebuilt tables was lost.
      expect(await m.find(TeamMember, { select: { teamId: true, userId: true } })).toEqual([{ teamId: 't-old', userId: 'u-pro' }]);
      if (database.config.type === 'sqlite') expect(await m.query('PRAGMA foreign_key_check')).toEqual([]);
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
});

describe('who may message whom across two organisations', () => {
  let server: TestServer;
  let world: World;
  let annA: Person;
  let amyA: Person;
  let alfA: Person;
  let bobB: Person;
  let belB: Person;
  let benB: Person;
  let wardA: TeamRef;
  let wardB: TeamRef;
  let pat: Person;
  let quinn: Person;

  const createThread = (author: Person, recipients: (Person | TeamRef)[]) =>
    failure(server.url, `mutation($r: [RecipientInput!]!) { createThread(subject: "S", body: "B", recipients: $r) { id } }`, { r: recipients.map(asRecipient) }, author.token);
  const addParticipants = (author: Person, threadId: string, recipients: (Person | TeamRef)[]) =>
    failure(server.url, `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`, { t: threadId, r: recipients.map(asRecipient) }, author.token);
  const teamNames = async (person: Person) => (await world.as(person, '{ teams { name } }')).teams.map((t: { name: string }) => t.name);

  beforeAll(async () => {
    server = await startTestServer();
    world = await World.create(server);
    annA = await world.professional('Ann A');
    amyA = await world.professional('Amy A');
    alfA = await world.professional('Alf A');
    const { world: worldB } = await world.organisation('Hospital B', { autoCcAllowed: true });
    bobB = await worldB.professional('Bob B');
    belB = await worldB.professional('Bel B');
    benB = await worldB.professional('Ben B');
    wardA = await world.team('Ward A', { autoCc: true, members: [annA, amyA] });
    wardB = await worldB.team('Ward B', { autoCc: true, members: [bobB, belB] });
    // Pat is cared for by both hospitals; Quinn only by B.
    pat = await world.patient('Pat Both');
    quinn = await world.patient('Quinn B');
    await world.share(pat, wardA);
    await world.share(pat, wardB);
    await world.share(quinn, wardB);
  });
  afterAll(() => server.close());

  test("a professional is offered their organisation's professionals and teams, and the patients who shared with them; nobody of another", async () => {
    expect(await offered(world, alfA)).toEqual({ teams: [{ name: 'Ward A', members: ['Amy A', 'Ann A'] }], users: [] });
    expect(await offered(world, annA)).toEqual({ teams: [{ name: 'Ward A', members: ['Amy A'] }], users: ['Alf A', 'Pat Both'] });
    expect(await offered(world, benB)).toEqual({ teams: [{ name: 'Ward B', members: ['Bel B', 'Bob B'] }], users: [] });
    expect(await offered(world, annA, { search: 'B' })).toEqual({ teams: [], users: ['Pat Both'] });
    expect(await teamNames(annA)).toEqual(['Ward A']);
    expect(await teamNames(benB)).toEqual(['Ward B']);
  });

  test('a patient is offered their care network across organisations, and writes to both hospitals in one thread', async () => {
    expect(await offered(world, pat)).toEqual({ teams: [{ name: 'Ward A', members: ['Amy A', 'Ann A'] }, { name: 'Ward B', members: ['Bel B', 'Bob B'] }], users: [] });
    expect(await teamNames(pat)).toEqual(['Ward A', 'Ward B']);
    const threadId = await world.thread(pat, [asRecipient(wardA), asRecipient(wardB)]);
    const { thread } = await world.as(bobB, `query($t: ID!) { thread(id: $t) { participants { user { name } } } }`, { t: threadId });
    expect(thread.participants.map((p: { user: { name: string } }) => p.user.name).sort()).toEqual(['Amy A', 'Ann A', 'Bel B', 'Bob B', 'Pat Both']);
  });

  test('picking a professional, a team or a patient of whom the organisation knows nothing is refused as an unknown recipient, and changes nothing', async () => {
    for (const pick of [bobB, wardB, quinn]) {
      const error = await createThread(alfA, [pick]);
      expect([error.extensions?.code, error.message]).toEqual(['BAD_USER_INPUT', 'Unknown recipient']);
    }
    const mixed = await createThread(alfA, [wardA, benB]);
    expect([mixed.extensions?.code, mixed.message]).toEqual(['BAD_USER_INPUT', 'Unknown recipient']);
    expect((await world.as(alfA, '{ threads { edges { node { id } } } }')).threads.edges).toEqual([]);
  });

  test("in a thread with a patient, whom the patient shared with is offered and added across organisations; nobody else of theirs", async () => {
    const threadId = await world.thread(annA, [asRecipient(pat)]);
    expect(await offered(world, annA, { threadId })).toEqual({ teams: [{ name: 'Ward A', members: ['Amy A'] }, { name: 'Ward B', members: ['Bel B', 'Bob B'] }], users: ['Alf A'] });
    const refused = await addParticipants(annA, threadId, [benB]);
    expect([refused.extensions?.code, refused.message]).toEqual(['BAD_USER_INPUT', 'Unknown recipient']);
    await world.addParticipants(annA, threadId, [wardB]);
    const { thread } = await world.as(belB, `query($t: ID!) { thread(id: $t) { participants { user { name } } } }`, { t: threadId });
    expect(thread.participants.map((p: { user: { name: string } }) => p.user.name).sort()).toEqual(['Ann A', 'Bel B', 'Bob B', 'Pat Both']);
    // Bel is away: everyone in the thread sees until when; why, only Bel's organisation.
    const until = new Date(Date.now() + 86_400_000).toISOString();
    await world.as(belB, `mutation($s: DateTime!, $e: DateTime!) { recordAbsence(startsAt: $s, endsAt: $e, reason: "Study leave") { id } }`, { s: new Date(Date.now() - 60_000).toISOString(), e: until });
    const bel = async (viewer: Person) =>
      (await world.as(viewer, `query($t: ID!) { thread(id: $t) { participants { user { name awayUntil absences { reason } } } } }`, { t: threadId })).thread.participants
        .map((p: { user: { name: string } }) => p.user)
        .find((u: { name: string }) => u.name === 'Bel B');
    expect(await bel(annA)).toEqual({ name: 'Bel B', awayUntil: until, absences: null });
    expect(await bel(pat)).toEqual({ name: 'Bel B', awayUntil: until, absences: null });
    expect(await bel(bobB)).toEqual({ name: 'Bel B', awayUntil: until, absences: [{ reason: 'Study leave' }] });
    // Without a patient who shared with B, a thread gives no way into B.
    const staffOnly = await world.thread(annA, [asRecipient(alfA)]);
    expect(await offered(world, annA, { threadId: staffOnly })).toEqual({ teams: [{ name: 'Ward A', members: ['Amy A'] }], users: ['Pat Both'] });
    const stillRefused = await addParticipants(annA, staffOnly, [wardB]);
    expect([stillRefused.extensions?.code, stillRefused.message]).toEqual(['BAD_USER_INPUT', 'Unknown recipient']);
  });
});

describe('a platform admin creates organisations, each with its first admin, and decides where automatic CC is allowed', () => {
  const env = useWorld();

  const CREATE = `mutation($n: String!, $e: String!) { createOrganisation(name: $n, firstAdmin: { email: $e, name: "First", password: "password-1234" }) { id } }`;
  const ALLOW = `mutation($o: ID!, $a: Boolean!) { setOrganisationAutoCc(organisationId: $o, allowed: $a) { id autoCcAllowed } }`;
  const organisationCount = () => env.server.app.db.manager.count(Organisation);

  test('the start-up admin is the platform admin; the first admin of a new organisation is its admin, and what they create is in it', async () => {
    expect((await env.world.as(env.world.admin, '{ me { isPlatformAdmin isAdmin } }')).me).toEqual({ isPlatformAdmin: true, isAdmin: true });
    const { id, world: clinic } = await env.world.organisation('Riverside Clinic');
    expect((await env.world.as(clinic.admin, '{ me { isAdmin isPlatformAdmin contactable organisation { id name autoCcAllowed } } }')).me).toEqual({
      isAdmin: true,
      isPlatformAdmin: false,
      contactable: false,
      organisation: { id, name: 'Riverside Clinic', autoCcAllowed: false },
    });
    const nurse = await clinic.professional('Riverside Nurse');
    expect((await env.world.as(nurse, '{ me { organisation { id } } }')).me.organisation.id).toBe(id);
    const names = async (person: Person) => (await env.world.as(person, '{ organisations { name } }')).organisations.map((o: { name: string }) => o.name);
    expect(await names(env.world.admin)).toEqual([DEFAULT_ORGANISATION_NAME, 'Riverside Clinic']);
    expect(await names(clinic.admin)).toEqual(['Riverside Clinic']);
    expect(await names(await env.world.patient('Pat Organisations'))).toEqual([]);
  });

  test('refused, with nothing created: anyone but a platform admin, a name or an email already used', async () => {
    const { world: clinic } = await env.world.organisation('Hillside Clinic');
    const before = await organisationCount();
    const refusals: [Person, Record<string, unknown>, string, string][] = [
      [clinic.admin, { n: 'By an admin', e: 'by-an-admin@test.example' }, 'FORBIDDEN', 'Only a platform admin may do this'],
      [await env.world.professional('Not Platform', { isAdmin: true }), { n: 'By another admin', e: 'by-another@test.example' }, 'FORBIDDEN', 'Only a platform admin may do this'],
      [env.world.admin, { n: 'Hillside Clinic', e: 'twice@test.example' }, 'BAD_USER_INPUT', 'An organisation named "Hillside Clinic" already exists'],
      [env.world.admin, { n: 'Email Taken', e: clinic.admin.email }, 'BAD_USER_INPUT', 'A user with this email already exists'],
      [env.world.admin, { n: '   ', e: 'blank@test.example' }, 'BAD_USER_INPUT', 'name must not be blank'],
    ];
    for (const [who, variables, code, message] of refusals) {
      const error = await failure(env.server.url, CREATE, variables, who.token);
      expect([variables, error.extensions?.code, error.message]).toEqual([variables, code, message]);
    }
    expect(await organisationCount()).toBe(before);
  });

  test("a platform admin renames any organisation, an organisation's admin their own; anything else is refused and changes nothing", async () => {
    const RENAME = `mutation($o: ID!, $n: String!) { renameOrganisation(organisationId: $o, name: $n) { id name } }`;
    const { id, world: clinic } = await env.world.organisation('Seaside Clinic');
    const { id: otherId, world: other } = await env.world.organisation('Bayside Clinic');
    expect((await env.world.as(env.world.admin, RENAME, { o: id, n: 'Seaside Practice' })).renameOrganisation).toEqual({ id, name: 'Seaside Practice' });
    expect((await env.world.as(clinic.admin, RENAME, { o: id, n: ' Seaside Health Centre ' })).renameOrganisation).toEqual({ id, name: 'Seaside Health Centre' });
    const refusals: [Person, string, string, string, string][] = [
      [other.admin, id, 'Taken Over', 'NOT_FOUND', 'Organisation not found'],
      [clinic.admin, '00000000-0000-4000-8000-000000000000', 'Nowhere', 'NOT_FOUND', 'Organisation not found'],
      [await clinic.professional('Seaside Nurse'), id, 'By a nurse', 'FORBIDDEN', 'Only an admin may rename an organisation'],
      [await env.world.patient('Seaside Pat'), id, 'By a patient', 'FORBIDDEN', 'Only an admin may rename an organisation'],
      [clinic.admin, id, 'Bayside Clinic', 'BAD_USER_INPUT', 'An organisation named "Bayside Clinic" already exists'],
      [env.world.admin, id, ' ', 'BAD_USER_INPUT', 'name must not be blank'],
    ];
    for (const [who, o, n, code, message] of refusals) {
      const error = await failure(env.server.url, RENAME, { o, n }, who.token);
      expect([n, error.extensions?.code, error.message]).toEqual([n, code, message]);
    }
    const names = await env.server.app.db.manager.find(Organisation, { select: { id: true, name: true }, where: [{ id }, { id: otherId }], order: { name: 'ASC' } });
    expect(names).toEqual([{ id: otherId, name: 'Bayside Clinic' }, { id, name: 'Seaside Health Centre' }]);
    // Each renaming is the organisation's event; the other organisation's admin sees none of it.
    const actions = async (admin: Person) => (await env.world.as(admin, `{ auditEvents(first: 100, filter: { action: "ORGANISATION_RENAMED" }) { edges { node { actor { id } } } } }`)).auditEvents.edges.map((e: { node: { actor: { id: string } } }) => e.node.actor.id);
    expect(await actions(clinic.admin)).toEqual([clinic.admin.id, env.world.admin.id]);
    expect(await actions(other.admin)).toEqual([]);
  });

  test("automatic CC only where allowed; disallowing it turns it off in the organisation's teams and leaves their threads as they are", async () => {
    const { id, world: clinic } = await env.world.organisation('Lakeside Clinic');
    const a = await clinic.professional('Lakeside A');
    const b = await clinic.professional('Lakeside B');
    const notAllowed = 'Automatic CC is not allowed in Lakeside Clinic: a platform admin must allow it first';
    const refusedTeam = await failure(env.server.url, `mutation { createTeam(name: "Ward", autoCc: true) { id } }`, {}, clinic.admin.token);
    expect([refusedTeam.extensions?.code, refusedTeam.message]).toEqual(['FORBIDDEN', notAllowed]);
    const ward = await clinic.team('Ward', { members: [a, b] });
    const refusedSwitch = await failure(env.server.url, `mutation($t: ID!) { setTeamAutoCc(teamId: $t, enabled: true) { id } }`, { t: ward.id }, clinic.admin.token);
    expect([refusedSwitch.extensions?.code, refusedSwitch.message]).toEqual(['FORBIDDEN', notAllowed]);
    for (const [who, o, code] of [
      [clinic.admin, id, 'FORBIDDEN'],
      [env.world.admin, '00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
    ] as const) {
      const error = await failure(env.server.url, ALLOW, { o, a: true }, who.token);
      expect(error.extensions?.code).toBe(code);
    }

    expect((await env.world.as(env.world.admin, ALLOW, { o: id, a: true })).setOrganisationAutoCc).toEqual({ id, autoCcAllowed: true });
    await clinic.setAutoCc(ward, true);
    const pat = await env.world.patient('Lakeside Pat');
    await env.world.share(pat, ward);
    const threadId = await env.world.thread(pat, [asRecipient(ward)]);

    expect((await env.world.as(env.world.admin, ALLOW, { o: id, a: false })).setOrganisationAutoCc).toEqual({ id, autoCcAllowed: false });
    const { teams } = await env.world.as(a, '{ teams { name autoCc } }');
    expect(teams).toEqual([{ name: 'Ward', autoCc: false }]);
    const { thread } = await env.world.as(pat, `query($t: ID!) { thread(id: $t) { participants { user { name } } } }`, { t: threadId });
    expect(thread.participants.map((p: { user: { name: string } }) => p.user.name).sort()).toEqual(['Lakeside A', 'Lakeside B', 'Lakeside Pat']);
    const actions = (await env.world.as(clinic.admin, `{ auditEvents(first: 100) { edges { node { action } } } }`)).auditEvents.edges.map((e: { node: { action: string } }) => e.node.action);
    expect(actions).toEqual(expect.arrayContaining(['ORGANISATION_CREATED', 'ORGANISATION_AUTO_CC_CHANGED', 'TEAM_AUTO_CC_CHANGED']));

    // A directory import there refuses auto-CC teams too, and creates nothing.
    const admin = await env.server.app.db.manager.findOneByOrFail(User, { id: clinic.admin.id });
    const refused = await new DirectoryImport({ uow: env.server.app.uow })
      .run(admin, { professionals: [], patients: [], teams: [{ where: 'teams[0]', name: 'Imported ward', autoCc: true, members: [] }], shares: [] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DirectoryFileError);
    expect((refused as DirectoryFileError).problems).toEqual([`teams[0]: ${notAllowed}`]);
    expect(await env.server.app.db.manager.existsBy(Team, { name: 'Imported ward' })).toBe(false);
  });
});
