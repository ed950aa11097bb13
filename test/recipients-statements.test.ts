import { QueryCounter } from './support/query-counter';
import { RECIPIENTS, recipientOptions, type RecipientArgs, type RecipientOptionData } from './support/recipients';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

/**
 * The same clinic at two sizes. `size` professionals named "Green 0",
 * "Grey 1", "Green 2"... (every tenth not contactable); auto-CC teams and
 * teams without auto-CC, one of each per fifty staff (at least three),
 * sharing two fifths and one fifth of the staff; and a tenth as many patients
 * (plus two), sharing with a team of the professional caller or with them
 * directly. The professional caller is in a team of each kind; the patient
 * caller's care network holds every team but "Auto 1", and a fifth of the
 * staff directly. Each caller has started a thread with an
 * auto-CC team (the professional with a patient too).
 */
interface Clinic {
  server: TestServer;
  counter: QueryCounter;
  world: World;
  professional: Person;
  patient: Person;
  professionalThread: string;
  patientThread: string;
}

const clinics: Clinic[] = [];
beforeAll(async () => {
  clinics.push(...(await Promise.all([openClinic(10), openClinic(500)])));
}, 60_000);
afterAll(() => Promise.all(clinics.map((c) => c.server.close())));

const colour = (i: number) => (i % 2 ? 'Grey' : 'Green');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function openClinic(size: number): Promise<Clinic> {
  const counter = new QueryCounter();
  // The outbox relay's rounds prune on their own clock; one longer than the test keeps them out of the count.
  const server = await startTestServer({ OUTBOX_RELAY_MS: '600000' }, { queryLogger: counter });
  const world = await World.create(server);
  const staff = await createUsers(
    world,
    range(size).map((i) => ({ name: `${colour(i)} ${i}`, kind: 'PROFESSIONAL', contactable: i % 10 !== 9 })),
  );
  const fifth = size / 5;
  const teamCount = Math.max(3, size / 50);
  const autoCcTeams = await inBatches(range(teamCount), (i) => world.team(`Auto ${i}`, { autoCc: true }), 1);
  const plainTeams = await inBatches(range(teamCount), (i) => world.team(`Ward ${i}`), 1);
  await addMembers(world, autoCcTeams, staff.slice(0, 2 * fifth));
  await addMembers(world, plainTeams, staff.slice(2 * fifth, 3 * fifth));
  const professional = await world.professional('Caller Professional');
  await world.addMember(autoCcTeams[0], professional);
  await world.addMember(plainTeams[0], professional);

  const patients = await createUsers(
    world,
    range(size / 10 + 2).map((i) => ({ name: `Patient ${colour(i)} ${i}`, kind: 'PATIENT' })),
  );
  await inBatches(patients, (id, i) => shareRecord(world, id, i % 2 ? asRecipient(plainTeams[0]) : { userId: professional.id }));
  const patient = await world.patient('Caller Patient');
  for (const team of [...autoCcTeams.filter((_, i) => i !== 1), ...plainTeams]) await world.share(patient, team);
  await inBatches(staff.slice(3 * fifth, 4 * fifth), (id) => shareRecord(world, patient.id, { userId: id }, patient));

  return {
    server,
    counter,
    world,
    professional,
    patient,
    professionalThread: await world.thread(professional, [asRecipient(autoCcTeams[1]), { userId: patients[0] }]),
    patientThread: await world.thread(patient, [asRecipient(autoCcTeams[0])]),
  };
}

type NewUser = { name: string; kind: 'PROFESSIONAL' | 'PATIENT'; contactable?: boolean };

/** Creates users through the API, a few at a time (the password hash dominates); returns their ids in order. */
function createUsers(world: World, users: NewUser[]): Promise<string[]> {
  return inBatches(users, async (input, i) => {
    const email = `bulk-${i}-${input.kind.toLowerCase()}@test.example`;
    const { createUser } = await world.as(world.admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { ...input, email, password: 'password-1234' },
    });
    return createUser.id as string;
  });
}

/** Deals the users out to the teams in turn. */
function addMembers(world: World, teams: TeamRef[], userIds: string[]) {
  return inBatches(userIds, (userId, i) =>
    world.as(world.admin, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, {
      t: teams[i % teams.length].id,
      u: userId,
    }),
  );
}

/** The patient's record shared with a team or professional, by the admin unless `by` is given. */
function shareRecord(world: World, patientId: string, recipient: { teamId: string } | { userId: string }, by: Person = world.admin) {
  return world.as(by, `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patientId, r: recipient });
}

async function inBatches<T, R>(items: T[], work: (item: T, index: number) => Promise<R>, size = 16): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map((item, i) => work(item, start + i)))));
  }
  return results;
}

/** The SQL statements of one `recipients` request, the context's load of the caller included. */
async function statementsOf(clinic: Clinic, caller: Person, args: RecipientArgs): Promise<string[]> {
  clinic.counter.reset();
  await clinic.world.as(caller, RECIPIENTS, { first: 100, ...args });
  return clinic.counter.statements;
}

/**
 * Statements with their IN lists and LIMITs folded (SQLite `?`, PostgreSQL `$n`; the people's LIMIT is what the
 * teams left of `first`) and each server's own schema name dropped, sorted: equal for the same work on more rows.
 */
const shapes = (statements: string[]) =>
  statements
    .map((q) =>
      q
        .replace(/\((\?|\$\d+)(, (\?|\$\d+))*\)/g, '(?...)')
        .replace(/LIMIT \d+/g, 'LIMIT n')
        .replace(/"test_[0-9a-f]+"\./g, ''),
    )
    .sort();

/** Which kinds of option an answer holds: loaders run only for the kinds present, so both sizes must match in this. */
const kinds = (options: RecipientOptionData[]) => [...new Set(options.map((o) => o.__typename))].sort();

/** Options and the team members they carry: how much an answer holds. */
const size = (options: RecipientOptionData[]) =>
  options.reduce((sum, o) => sum + 1 + (o.__typename === 'TeamRecipient' ? o.members.length : 0), 0);

/** The options with their own fields only: what the drop-down's statements load. */
const LEAN_RECIPIENTS = `query($search: String, $threadId: ID, $first: Int) {
  recipients(search: $search, threadId: $threadId, first: $first) {
    __typename
    ... on TeamRecipient { id reachCount team { id name autoCc } members { id name kind contactable } }
    ... on UserRecipient { id user { id name kind contactable } }
  }
}`;

type Caller = 'professional' | 'patient';
const SCENARIOS: { caller: Caller; label: string; args: (c: Clinic) => RecipientArgs }[] = [
  { caller: 'professional', label: 'no search', args: () => ({}) },
  { caller: 'professional', label: 'search', args: () => ({ search: 'gReEn' }) },
  { caller: 'professional', label: 'search for a team only', args: () => ({ search: 'AUTO 2' }) },
  { caller: 'professional', label: 'threadId', args: (c) => ({ threadId: c.professionalThread }) },
  { caller: 'professional', label: 'threadId and search', args: (c) => ({ threadId: c.professionalThread, search: 'green' }) },
  { caller: 'patient', label: 'no search', args: () => ({}) },
  { caller: 'patient', label: 'search', args: () => ({ search: 'GREEN' }) },
  { caller: 'patient', label: 'threadId', args: (c) => ({ threadId: c.patientThread }) },
  { caller: 'patient', label: 'threadId and search', args: (c) => ({ threadId: c.patientThread, search: 'green' }) },
];

test.each(SCENARIOS.map((s) => [`${s.caller} caller, ${s.label}`, s] as const))(
  'recipients runs as many SQL statements for 500 professionals as for 10 (%s)',
  async (_name, scenario) => {
    const [small, large] = clinics;
    const statements = [];
    for (const clinic of [small, large]) statements.push(await statementsOf(clinic, clinic[scenario.caller], scenario.args(clinic)));
    // Compared as sorted lists, their IN lists folded, so that a failure shows which statement came more often.
    expect(shapes(statements[1])).toEqual(shapes(statements[0]));
    // The caller; with threadId their participation; the teams offered with the members they would add;
    // the people; then one batch per field loader: team memberships, users, users' memberships, teams.
    expect(statements[0].length).toBeLessThanOrEqual(8);
    // The drop-down itself (the options without the fields that have loaders of their own): at most 4, the caller included.
    for (const clinic of [small, large]) {
      clinic.counter.reset();
      await clinic.world.as(clinic[scenario.caller], LEAN_RECIPIENTS, { first: 100, ...scenario.args(clinic) });
      expect(clinic.counter.statements.length).toBeLessThanOrEqual(4);
    }

    // A fixed count means something only if both answers hold the same kinds of option and the large one holds more.
    const answers = await Promise.all([small, large].map((c) => recipientOptions(c.world, c[scenario.caller], scenario.args(c))));
    expect(kinds(answers[1])).toEqual(kinds(answers[0]));
    expect(size(answers[1])).toBeGreaterThan(size(answers[0]));
  },
);
