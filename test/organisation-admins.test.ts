import { TeamShare } from '../src/modules/care-network/record-share.entity';
import { DirectoryFileError } from '../src/modules/directory/directory-file';
import { DirectoryImport } from '../src/modules/directory/directory-import';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { failure } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// Issue 18: an organisation's admin acts only on their organisation's professionals and teams, and on the
// patients it registered or who shared their record with it. Anything else answers as an unknown id
// would (NOT_FOUND, or "Unknown ..."), and nothing changes.

let server: TestServer;
let world: World;
let adminB: Person;
let proA: Person;
let proB: Person;
let wardA: TeamRef;
let wardB: TeamRef;
let patA: Person;
let patShared: Person;
let absenceA: string;

const ABSENCE = `mutation($u: ID) { recordAbsence(userId: $u, startsAt: "2030-01-01T00:00:00Z", endsAt: "2030-01-02T00:00:00Z") { id } }`;
const state = async () => {
  const m = server.app.db.manager;
  const users = await m.find(User, { select: { id: true, contactable: true, disabled: true }, order: { id: 'ASC' } });
  const { teams } = await world.as(world.admin, '{ teams { id autoCc minimumContactable waitingLimitMinutes members { id } } }');
  const shares = await m.find(TeamShare, { select: { patientId: true, teamId: true }, order: { patientId: 'ASC', teamId: 'ASC' } });
  return JSON.stringify({ users, teams, shares });
};

beforeAll(async () => {
  server = await startTestServer();
  world = await World.create(server);
  proA = await world.professional('Pro A');
  wardA = await world.team('Ward', { autoCc: true });
  patA = await world.patient('Pat A');
  patShared = await world.patient('Pat Shared');
  const { world: worldB } = await world.organisation('Hospital B', { autoCcAllowed: true });
  adminB = worldB.admin;
  proB = await worldB.professional('Pro B');
  wardB = await worldB.team('Ward B', { autoCc: true });
  await world.share(patShared, wardB);
  absenceA = (await world.as(proA, ABSENCE, { u: null })).recordAbsence.id;
});
afterAll(() => server.close());

const as = (person: Person, query: string, variables: Record<string, unknown>) => failure(server.url, query, variables, person.token);
const codeAndMessage = async (answer: Promise<{ message: string; extensions?: Record<string, unknown> }>) => {
  const error = await answer;
  return [error.extensions?.code, error.message];
};

test("another organisation's teams, professionals, patients and absences are unknown to an admin, and nothing changes", async () => {
  const before = await state();
  const cases: [string, Record<string, unknown>, string, string][] = [
    [`mutation($t: ID!) { setTeamAutoCc(teamId: $t, enabled: false) { id } }`, { t: wardA.id }, 'NOT_FOUND', 'Team not found'],
    [`mutation($t: ID!) { setTeamCoverageMinimum(teamId: $t, minimum: 0) { id } }`, { t: wardA.id }, 'NOT_FOUND', 'Team not found'],
    [`mutation($t: ID!) { setTeamWaitingLimit(teamId: $t, minutes: 5) { id } }`, { t: wardA.id }, 'NOT_FOUND', 'Team not found'],
    [`mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: wardA.id, u: proB.id }, 'NOT_FOUND', 'Team not found'],
    [`mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: wardA.id, u: proA.id }, 'NOT_FOUND', 'Team not found'],
    [`mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: wardB.id, u: proA.id }, 'BAD_USER_INPUT', 'Unknown user'],
    [`mutation($u: ID!) { setContactable(userId: $u, contactable: false) { id } }`, { u: proA.id }, 'NOT_FOUND', 'User not found'],
    [`mutation($u: ID!) { setContactable(userId: $u, contactable: false) { id } }`, { u: patA.id }, 'NOT_FOUND', 'User not found'],
    [`mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: proA.id }, 'NOT_FOUND', 'User not found'],
    [`mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: patA.id }, 'NOT_FOUND', 'User not found'],
    [ABSENCE, { u: proA.id }, 'NOT_FOUND', 'User not found'],
    [`mutation($a: ID!) { cancelAbsence(id: $a) }`, { a: absenceA }, 'NOT_FOUND', 'Absence not found'],
    [`mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patA.id, r: asRecipient(wardB) }, 'NOT_FOUND', 'Patient not found'],
    [`mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patShared.id, r: asRecipient(wardA) }, 'BAD_USER_INPUT', 'Unknown team'],
    [`mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patShared.id, r: asRecipient(proA) }, 'BAD_USER_INPUT', 'A record can be shared with a professional or a team'],
  ];
  for (const [query, variables, code, message] of cases) {
    expect([query, variables, ...(await codeAndMessage(as(adminB, query, variables)))]).toEqual([query, variables, code, message]);
  }
  expect(await state()).toBe(before);
});

test("an admin acts on their own organisation's: team names are their organisation's, and what they create is theirs", async () => {
  const { createTeam } = await world.as(adminB, `mutation { createTeam(name: "Ward", autoCc: true) { id name } }`);
  const again = await as(adminB, `mutation { createTeam(name: "Ward") { id } }`, {});
  expect([again.extensions?.code, again.message]).toEqual(['BAD_USER_INPUT', 'A team named "Ward" already exists']);
  await world.as(adminB, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: createTeam.id, u: proB.id });
  const { createUser } = await world.as(adminB, `mutation { createUser(input: { email: "registered-by-b@test.example", name: "Pat Of B", kind: PATIENT, password: "password-1234" }) { id } }`);
  const m = server.app.db.manager;
  const { organisationId } = await m.findOneByOrFail(User, { id: adminB.id });
  expect(await m.findOneByOrFail(User, { id: createUser.id })).toMatchObject({ organisationId: null, registeredByOrganisationId: organisationId });
  // The patient B registered: B's admin shares for them with B's team, and decides whether their account is disabled.
  await world.as(adminB, `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: createUser.id, r: asRecipient(createTeam) });
  await world.as(adminB, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: createUser.id });
  // A patient A registered who shared with B: B's admin may share for them within B, but their account is A's to disable.
  await world.as(adminB, `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patShared.id, r: asRecipient(createTeam) });
  expect(await codeAndMessage(as(adminB, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: patShared.id }))).toEqual([
    'FORBIDDEN',
    'Only an admin of the organisation that registered this patient may change whether their account is disabled',
  ]);
  await world.as(adminB, ABSENCE, { u: proB.id });
  await world.as(adminB, `mutation($u: ID!) { setContactable(userId: $u, contactable: true) { id } }`, { u: proB.id });
});

test("a directory import by an admin finds only their organisation's people and teams: another's are nobody, and nothing is created", async () => {
  const admin = await server.app.db.manager.findOneByOrFail(User, { id: adminB.id });
  const refused = await new DirectoryImport({ uow: server.app.uow })
    .run(admin, {
      professionals: [],
      patients: [],
      teams: [{ where: 'teams[0]', name: 'Imported B ward', autoCc: false, members: [{ where: 'teams[0].members[0]', email: proA.email }] }],
      shares: [{ where: 'shares[0]', patient: patA.email, team: 'Imported B ward' }],
    })
    .catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(DirectoryFileError);
  expect((refused as DirectoryFileError).problems).toEqual([`teams[0].members[0]: nobody has the email ${proA.email}`, `shares[0]: nobody has the email ${patA.email}`]);
  expect(await server.app.db.manager.existsBy(Team, { name: 'Imported B ward' })).toBe(false);
});

test("a professional asking for another organisation's team inbox gets NOT_FOUND, as for an unknown team; a patient FORBIDDEN, whatever the id", async () => {
  const INBOX = `query($t: ID!) { teamInbox(teamId: $t) { edges { node { threadId } } } }`;
  expect(await codeAndMessage(as(proB, INBOX, { t: wardA.id }))).toEqual(['NOT_FOUND', 'Team not found']);
  expect(await codeAndMessage(as(proA, INBOX, { t: wardA.id }))).toEqual(['FORBIDDEN', 'Only members of this team may use its inbox']);
  for (const t of [wardA.id, '00000000-0000-4000-8000-000000000000']) expect(await codeAndMessage(as(patA, INBOX, { t }))).toEqual(['FORBIDDEN', 'Only members of this team may use its inbox']);
});
