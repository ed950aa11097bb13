import { DirectoryImport } from '../src/modules/directory/directory-import';
import { Team } from '../src/modules/teams/team.entity';
import { User } from '../src/modules/users/user.entity';
import { QueryCounter } from './support/query-counter';
import { RECIPIENTS, recipientOptions, type RecipientArgs, type RecipientOptionData } from './support/recipients';
import { startTestServer, type TestServer } from './support/server';
import { World, type Person } from './support/world';

/**
 * The same clinic at two sizes, loaded by the directory import. `size` professionals named "Green 0",
 * "Grey 1", "Green 2"... (every tenth not contactable); TEAMS auto-CC teams and as many without auto-CC,
 * sharing the first tenth and the next three tenths of the staff; and a tenth as many patients (plus
 * two), sharing with a team of the professional caller or with them directly. The professional caller is
 * in a team of each kind; the patient caller's care network holds every team but "Auto 1", and a fifth of
 * the staff directly. Each caller has started a thread with an auto-CC team (the professional with a
 * patient too).
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

const SIZES = [1_000, 10_000];
/** Teams of each kind: fewer than the 100 options asked for, so that every answer holds people too. */
const TEAMS = 30;
const clinics: Clinic[] = [];
beforeAll(async () => {
  for (const size of SIZES) clinics.push(await openClinic(size));
}, 600_000);
afterAll(() => Promise.all(clinics.map((c) => c.server.close())));

const colour = (i: number) => (i % 2 ? 'Grey' : 'Green');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function openClinic(size: number): Promise<Clinic> {
  const counter = new QueryCounter();
  // The outbox relay's rounds, the escalation poll and the audit sealer (with the import's
  // thousands of events to seal) run on their own clocks; ones longer than the test keep them out of the count.
  const server = await startTestServer({ OUTBOX_RELAY_MS: '600000', ESCALATION_POLL_MS: '3600000', AUDIT_SEAL_MS: '3600000' }, { queryLogger: counter });
  const world = await World.create(server);
  const professional = await world.professional('Caller Professional');
  const patient = await world.patient('Caller Patient');

  const fifth = size / 5;
  const staff = range(size).map((i) => ({ where: `staff ${i}`, email: `staff-${i}@test.example`, name: `${colour(i)} ${i}`, passwordHash: null, contactable: i % 10 !== 9, isAdmin: false }));
  const teams = [
    ...range(TEAMS).map((i) => ({ where: `auto ${i}`, name: `Auto ${i}`, autoCc: true, members: dealt(staff.slice(0, size / 10), i, TEAMS) })),
    ...range(TEAMS).map((i) => ({ where: `ward ${i}`, name: `Ward ${i}`, autoCc: false, members: dealt(staff.slice(size / 10, 2 * fifth), i, TEAMS) })),
  ];
  for (const name of ['Auto 0', 'Ward 0']) teams.find((t) => t.name === name)!.members.push({ where: 'caller', email: professional.email });
  const patients = range(size / 10 + 2).map((i) => ({ where: `patient ${i}`, email: `patient-${i}@test.example`, name: `Patient ${colour(i)} ${i}`, passwordHash: null }));
  const shares = [
    ...patients.map((p, i) => (i % 2 ? { where: p.where, patient: p.email, team: 'Ward 0' } : { where: p.where, patient: p.email, professional: professional.email })),
    ...teams.filter((t) => t.name !== 'Auto 1').map((t) => ({ where: t.where, patient: patient.email, team: t.name })),
    ...staff.slice(3 * fifth, 4 * fifth).map((p) => ({ where: p.where, patient: patient.email, professional: p.email })),
  ];
  const admin = await server.app.db.getRepository(User).findOneByOrFail({ id: world.admin.id });
  await new DirectoryImport({ uow: server.app.uow }).run(admin, { professionals: staff, patients, teams, shares });
  // The import held this process (SQLite is synchronous) past the server's keep-alive: the client's idle
  // connections may have been closed under it, and the first request after fails on one. Any will do.
  await world.as(world.admin, '{ __typename }').catch(() => undefined);

  const teamId = async (name: string) => (await server.app.db.getRepository(Team).findOneByOrFail({ name })).id;
  const firstPatient = await server.app.db.getRepository(User).findOneByOrFail({ email: patients[0].email });
  return {
    server,
    counter,
    world,
    professional,
    patient,
    professionalThread: await world.thread(professional, [{ teamId: await teamId('Auto 1') }, { userId: firstPatient.id }]),
    patientThread: await world.thread(patient, [{ teamId: await teamId('Auto 0') }]),
  };
}

/** The `i`th of `count` teams' share of `people`, dealt in turn: their emails. */
const dealt = (people: { email: string }[], i: number, count: number) =>
  people.filter((_, k) => k % count === i).map((p) => ({ where: 'member', email: p.email }));

/** The SQL statements of one `recipients` request (`query`, every field unless told), the context's load of the caller included. */
async function statementsOf(clinic: Clinic, caller: Person, args: RecipientArgs, query = RECIPIENTS): Promise<string[]> {
  clinic.counter.reset();
  await clinic.world.as(caller, query, { first: 100, ...args });
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
  'the drop-down runs as many SQL statements (at most 4) for 10,000 professionals as for 1,000 (%s)',
  async (_name, scenario) => {
    const [small, large] = clinics;
    // The drop-down itself (the options without the fields that have loaders of their own): the same
    // statements at both sizes, compared as sorted lists so that a failure shows which came more often, and
    // at most 4: the caller; with threadId their participation; the teams offered with the members they
    // would add; the people.
    const lean = [];
    for (const clinic of [small, large]) lean.push(await statementsOf(clinic, clinic[scenario.caller], scenario.args(clinic), LEAN_RECIPIENTS));
    expect(shapes(lean[1])).toEqual(shapes(lean[0]));
    expect(lean[1].length).toBeLessThanOrEqual(4);

    // With every field a client may ask for, one batch more per field loader (team memberships, users,
    // users' memberships, teams): no other kind of statement at the larger size. DataLoader splits a batch
    // at 500 keys, and the larger clinic's teams have more members, so a loader's statement may come twice.
    const full = [];
    for (const clinic of [small, large]) full.push(await statementsOf(clinic, clinic[scenario.caller], scenario.args(clinic)));
    expect(new Set(shapes(full[1]))).toEqual(new Set(shapes(full[0])));
    expect(full[0].length).toBeLessThanOrEqual(8);

    // A fixed count means something only if both answers hold the same kinds of option and the large one holds more.
    const answers = await Promise.all([small, large].map((c) => recipientOptions(c.world, c[scenario.caller], scenario.args(c))));
    expect(kinds(answers[1])).toEqual(kinds(answers[0]));
    expect(size(answers[1])).toBeGreaterThan(size(answers[0]));
  },
  // Answers of a thousand team members with every field, on a busy machine.
  120_000,
);
