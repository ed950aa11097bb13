import { QueryCounter } from './support/query-counter';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// Issue 16: the statements a send and a read cost, the caller's session lookup included and
// the transactions' BEGIN and COMMIT left out (the same two every transaction has, the bare
// server's included). One sendMessage through the API runs at most 8 (item 3).

const MAX_STATEMENTS = 8;

const READ = `query($t: ID!) { thread(id: $t) { messages(first: 20) { edges { node { id body } } } } }`;
const EVERY_CONTENT_FIELD = `query($t: ID!) {
  thread(id: $t) { subject lastMessage { id } messages(first: 20) { edges { node { id } } } inbox { status } }
}`;

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

/** The statements one operation sends to the database, from the request's arrival to its answer. */
async function statementsOf(caller: Person, query: string, variables: Record<string, unknown>): Promise<string[]> {
  counter.reset();
  await world.as(caller, query, variables);
  return counter.statements.filter((sql) => !isTransactionControl(sql));
}

const sendStatements = (author: Person, threadId: string, options: { clientMessageId?: string; staffOnly?: boolean } = {}) =>
  statementsOf(author, SEND, { t: threadId, b: 'Counted', c: options.clientMessageId ?? null, s: options.staffOnly ?? false });

/** A thread the patient started with the team (so a wait runs), as the rows of a real clinic would be. */
async function patientThread(to: TeamRef): Promise<string> {
  return world.thread(patient, [asRecipient(to)]);
}

describe(`a sendMessage runs at most ${MAX_STATEMENTS} SQL statements`, () => {
  test('a professional answering a waiting patient (the wait ends, its alert is unscheduled)', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await sendStatements(professional, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient writing into a thread nobody waits on (the wait starts)', async () => {
    const threadId = await patientThread(team);
    await world.send(professional, threadId, 'Answered');
    expect((await sendStatements(patient, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient writing again while waiting', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await sendStatements(patient, threadId)).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a staff-only note', async () => {
    const threadId = await patientThread(limitedTeam);
    expect((await sendStatements(professional, threadId, { staffOnly: true })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('with a clientMessageId, and its retry', async () => {
    const threadId = await patientThread(team);
    expect((await sendStatements(professional, threadId, { clientMessageId: 'counted-1' })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
    expect((await sendStatements(professional, threadId, { clientMessageId: 'counted-1' })).length).toBeLessThanOrEqual(MAX_STATEMENTS);
  });

  test('a patient starting a wait costs one more per team whose alert it schedules, and no more', async () => {
    const threadId = await patientThread(limitedTeam);
    await world.send(professional, threadId, 'Answered');
    const statements = await sendStatements(patient, threadId);
    expect(statements.filter((sql) => /^UPDATE "[^"]*"?\.?"?thread_teams"/.test(sql))).toHaveLength(1);
    expect(statements.length).toBeLessThanOrEqual(MAX_STATEMENTS + 1);
  });
});

// The caller's session, the thread with the caller's participation (one statement, which the
// request's loader answers again for every other field of that thread) and the page of
// messages; then the THREAD_READ's group commit: the thread's participants (its patients, the
// reader's team), the audit event and its patient link.
describe('a read of a thread', () => {
  let threadId: string;
  beforeAll(async () => {
    threadId = await patientThread(team);
    for (let i = 0; i < 3; i++) await world.send(professional, threadId, `Answer ${i}`);
  });

  test.each([
    ['a patient', () => patient],
    ['a professional', () => professional],
  ])('by %s reads its messages in 6 statements, its THREAD_READ included', async (_who, reader) => {
    expect(await statementsOf(reader(), READ, { t: threadId })).toHaveLength(6);
  });

  test('reads the thread once however many of its fields check that the caller may see it', async () => {
    const statements = await statementsOf(professional, EVERY_CONTENT_FIELD, { t: threadId });
    expect(statements.filter((sql) => /FROM "[^"]*"?\.?"?threads"/.test(sql))).toHaveLength(1);
  });
});
