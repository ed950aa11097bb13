import { DEFAULT_ORGANISATION_NAME, Organisations1773000000000 } from '../src/migrations/1773000000000-organisations';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { Organisation } from '../src/modules/organisations/organisation.entity';
import { TeamMember } from '../src/modules/teams/team-member.entity';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { migrations } from '../src/tables';
import { earlierRelease } from './support/earlier-release';
import { startTestServer, type TestServer } from './support/server';
import { sharedDatabase } from './support/shared-database';
import { World } from './support/world';

// Issue 18, the first step: every professional and every team belongs to one organisation, patients
// to none; what a database held before moves into one.

const ORGANISATIONS = `query { me { organisation { id name } } teams { name organisation { id name } } }`;

describe('on a new database', () => {
  let server: TestServer;
  let world: World;

  beforeAll(async () => {
    server = await startTestServer();
    world = await World.create(server);
  });
  afterAll(() => server.close());

  test('there is one organisation, and the start-up admin belongs to it', async () => {
    const organisations = await server.app.db.manager.find(Organisation);
    expect(organisations.map((o) => o.name)).toEqual([DEFAULT_ORGANISATION_NAME]);
    const { me } = await world.as(world.admin, ORGANISATIONS);
    expect(me.organisation).toEqual({ id: organisations[0].id, name: DEFAULT_ORGANISATION_NAME });
  });

  test("professionals and teams an admin creates join the admin's organisation; a patient joins none", async () => {
    const { me: admin } = await world.as(world.admin, ORGANISATIONS);
    const professional = await world.professional('Dr Member');
    const patient = await world.patient('Pat Nobody');
    await world.team('Members', { members: [professional] });

    expect((await world.as(professional, ORGANISATIONS)).me.organisation).toEqual(admin.organisation);
    const seenByPatient = await world.as(patient, `query { me { organisation { id } } }`);
    expect(seenByPatient.me.organisation).toBeNull();
    const { teams } = await world.as(professional, ORGANISATIONS);
    expect(teams).toContainEqual({ name: 'Members', organisation: admin.organisation });
  });

  test("a directory import puts its professionals and teams in the importing admin's organisation, its patients in none", async () => {
    const admin = await server.app.db.manager.findOneByOrFail(User, { id: world.admin.id });
    await new DirectoryImport({ uow: server.app.uow }).run(admin, {
      professionals: [{ where: 'professionals[0]', email: 'imported-pro@clinic.example', name: 'Imported Pro', passwordHash: null, contactable: true, isAdmin: false }],
      patients: [{ where: 'patients[0]', email: 'imported-pat@clinic.example', name: 'Imported Pat', passwordHash: null }],
      teams: [{ where: 'teams[0]', name: 'Imported team', autoCc: false, members: [] }],
      shares: [],
    });
    const m = server.app.db.manager;
    expect((await m.findOneByOrFail(User, { email: 'imported-pro@clinic.example' })).organisationId).toBe(admin.organisationId);
    expect((await m.findOneByOrFail(User, { email: 'imported-pat@clinic.example' })).organisationId).toBeNull();
    expect((await m.findOneByOrFail(Team, { name: 'Imported team' })).organisationId).toBe(admin.organisationId);
  });
});

test('on a database from before organisations: its professionals and teams move into one organisation, its patients into none', async () => {
  const database = sharedDatabase('organisations-upgrade');
  try {
    await earlierRelease(database, migrations.filter((m) => m !== Organisations1773000000000));
    const server = await startTestServer(database.env);
    try {
      const m = server.app.db.manager;
      const [organisation, ...others] = await m.find(Organisation);
      expect(others).toEqual([]);
      expect(organisation.name).toBe(DEFAULT_ORGANISATION_NAME);
      const users = await m.find(User, { select: { email: true, organisationId: true }, order: { email: 'ASC' } });
      expect(users).toEqual([
        { email: 'admin@test.example', organisationId: organisation.id },
        { email: 'pat@old.example', organisationId: null },
        { email: 'pro@old.example', organisationId: organisation.id },
      ]);
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
