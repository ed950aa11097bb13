import { QueryCounter } from './support/query-counter';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// Issue 16, item 3: one sendMessage through the API runs at most 8 SQL statements, the
// caller's session lookup included and the transaction's BEGIN and COMMIT left out (the
// same two every transaction has, the bare server's included).

const MAX_STATEMENTS = 8;

const SEND = `mutation($t: ID!, $b: String!, $c: String, $s: Boolean) {
  sendMessage(threadId: $t, body: $b, clientMessageId: $c, staffOnly: $s) { id body createdAt staffOnly clientMessageId author { id name } }
}`;

let server: TestServer;
let counter: QueryCounter;
let world: World;
let patient: Person;
let professional: Person;
let team: TeamRef;
let limitedTeam: TeamRef;

beforeAll(async () => {
  counter = new QueryCounter();
  // The outbox relay's rounds and the audit sealer's run on their own clocks; ones longer than the test keep them out of the count.
  server = await startTestServer({ OUTBOX_RELAY_MS: '600000', AUDIT_SEAL_MS: '3600000' }, { queryLogger: counter });
  world = await World.create(server);
  professional = await world.professional('Dr Count');
  patient = await world.patient('Pat Count');
  team = await world.team('Counted', { autoCc: true, members: [professional] });
  limitedTeam = await world.team('Counted with a limit', { autoCc: true, members: [professional] });
  await world.as(world.admin, `mutation($t: ID!) { setTeamWaitingLimit(teamId: $t, minutes: 60) { id } }`, { t: limitedTeam.id });
  for (const t of [team, limitedTeam]) await world.share(patient, t);
}, 30_000);
afterAll(() => server.close());

const isTransactionControl = (sql: string) => /^(BEGIN|START TRANSACTION|COMMIT)\b/i.test(sql.trim());

/** The statements one sendMessage sends to the database, from the request's arrival to its answer. */
async function statementsOf(author: Person, threadId: string, options: { clientMessageId?: string; staffOnly?: boolean } = {}): Promise<string[]> {
  counter.reset();
  await world.as(author, SEND, { t: threadId, b: 'Counted', c: options.clientMessageId ?? null, s: options.staffOnly ?? false });
  return counter.statements.filter((sql) => !isTransactionControl(sql));
}

/** A thread the patient started with the team (so a wait runs), as the rows of a real clinic would be. */
async function patientThread(to: TeamRef): Promise<string> {
  return world.thread(patient, [asRecipient(to)]);
}

describe(`a sendMessage runs at most ${MAX_STATEMENTS} SQL statements`, () => {
  test('a professional answering a waiting patient (the wait ends, its alert is unscheduled)', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await statementsOf(professional, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient writing into a thread nobody waits on (the wait starts)', async () => {
    const threadId = await patientThread(team);
    await world.send(professional, threadId, 'Answered');
    expect((await statementsOf(patient, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient writing again while waiting', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await statementsOf(patient, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a staff-only note', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await statementsOf(professional, threadId, { staffOnly: true })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('with a clientMessageId, and its retry', async () => {
    const threadId = await patientThread(team);
    expect((await statementsOf(professional, threadId, { clientMessageId: 'counted-1' })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
    expect((await statementsOf(professional, threadId, { clientMessageId: 'counted-1' })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient starting a wait costs one more per team whose alert it schedules, and no more', async () => {
    const threadId = await patientThread(limitedTeam);
    await world.send(professional, threadId, 'Answered');
    const statements = await statementsOf(patient, threadId);
    expect(statements.filter((sql) => /^UPDATE "[^"]*"?\.?"?thread_teams"/.test(sql))).toHaveLength(1);
    expect(statements.length).toBeLessThanOrEqual(MAX_STATEMENTS + 1);
  });
});
