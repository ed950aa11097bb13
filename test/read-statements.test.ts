import { QueryCounter } from './support/query-counter';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';

// Issue 16, reads: a thread's messages are read in the fewest statements that keep the rules.
// The caller's session, the thread with the caller's participation (one statement, which the
// request's loader answers again for every other field of that thread) and the page of
// messages; then the THREAD_READ's group commit: the thread's participants (its patients, the
// reader's team), the audit event and its patient link. BEGIN and COMMIT are left out.

const READ = `query($t: ID!) { thread(id: $t) { messages(first: 20) { edges { node { id body } } } } }`;
const EVERY_CONTENT_FIELD = `query($t: ID!) {
  thread(id: $t) { subject lastMessage { id } messages(first: 20) { edges { node { id } } } inbox { status } }
}`;

let server: TestServer;
let counter: QueryCounter;
let world: World;
let patient: Person;
let professional: Person;
let threadId: string;

beforeAll(async () => {
  counter = new QueryCounter();
  // The outbox relay's rounds and the audit sealer's run on their own clocks; ones longer than the test keep them out of the count.
  server = await startTestServer({ OUTBOX_RELAY_MS: '600000', AUDIT_SEAL_MS: '3600000' }, { queryLogger: counter });
  world = await World.create(server);
  professional = await world.professional('Dr Reader');
  patient = await world.patient('Pat Reader');
  const team = await world.team('Read', { autoCc: true, members: [professional] });
  await world.share(patient, team);
  threadId = await world.thread(patient, [asRecipient(team)]);
  for (let i = 0; i < 3; i++) await world.send(professional, threadId, `Answer ${i}`);
}, 30_000);
afterAll(() => server.close());

const isTransactionControl = (sql: string) => /^(BEGIN|START TRANSACTION|COMMIT)\b/i.test(sql.trim());

async function statementsOf(reader: Person, query: string): Promise<string[]> {
  counter.reset();
  await world.as(reader, query, { t: threadId });
  return counter.statements.filter((sql) => !isTransactionControl(sql));
}

const threadReads = (statements: string[]) => statements.filter((sql) => /FROM "[^"]*"?\.?"?threads"/.test(sql));

describe('a read of a thread', () => {
  test.each([
    ['a patient', () => patient],
    ['a professional', () => professional],
  ])('by %s reads its messages in 6 statements, its THREAD_READ included', async (_who, reader) => {
    expect(await statementsOf(reader(), READ)).toHaveLength(6);
  });

  test('reads the thread once however many of its fields check that the caller may see it', async () => {
    const statements = await statementsOf(professional, EVERY_CONTENT_FIELD);
    expect(threadReads(statements)).toHaveLength(1);
  });
});
