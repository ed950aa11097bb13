import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSource } from '../src/data-source';
import { DEFAULT_ORGANISATION_NAME, Organisations1773000000000 } from '../src/migrations/1773000000000-organisations';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { Organisation } from '../src/modules/organisations/organisation.entity';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { migrations } from '../src/tables';
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
  const postgres = database.config.type === 'postgres';
  try {
    const old = new DataSource({ ...createDataSource(database.config).options, migrations: migrations.filter((m) => m !== Organisations1773000000000) } as DataSourceOptions);
    await old.initialize();
    if (postgres) await old.query(`CREATE SCHEMA "${database.schema}"`);
    await old.runMigrations({ transaction: 'all' });
    const table = (name: string) => (postgres ? `"${database.schema}"."${name}"` : `"${name}"`);
    const at = `'2026-01-01 00:00:00.000'`;
    await old.query(`INSERT INTO ${table('users')} ("id", "email", "name", "kind", "contactable", "isAdmin", "passwordHash", "createdAt")
      VALUES ('u-old-pro', 'old-pro@clinic.example', 'Old Pro', 'PROFESSIONAL', true, false, 'x', ${at}),
             ('u-old-pat', 'old-pat@clinic.example', 'Old Pat', 'PATIENT', false, false, 'x', ${at})`);
    await old.query(`INSERT INTO ${table('teams')} ("id", "name", "autoCc", "createdAt") VALUES ('t-old', 'Old Team', true, ${at})`);
    await old.query(`INSERT INTO ${table('team_members')} ("teamId", "userId", "addedAt") VALUES ('t-old', 'u-old-pro', ${at})`);
    await old.destroy();

    const server = await startTestServer(database.env);
    try {
      const m = server.app.db.manager;
      const [organisation, ...others] = await m.find(Organisation);
      expect(others).toEqual([]);
      expect(organisation.name).toBe(DEFAULT_ORGANISATION_NAME);
      const users = await m.find(User, { select: { email: true, organisationId: true }, order: { email: 'ASC' } });
      expect(users).toEqual([
        { email: 'admin@test.example', organisationId: organisation.id },
        { email: 'old-pat@clinic.example', organisationId: null },
        { email: 'old-pro@clinic.example', organisationId: organisation.id },
      ]);
      expect(await m.findOneByOrFail(Team, { id: 't-old' })).toMatchObject({ name: 'Old Team', autoCc: true, organisationId: organisation.id });
      // Nothing that referred to the rebuilt tables was lost.
      expect(await m.query(`SELECT "teamId", "userId" FROM ${table('team_members')}`)).toEqual([{ teamId: 't-old', userId: 'u-old-pro' }]);
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
});
