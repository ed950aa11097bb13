import type { Client } from 'graphql-ws';
import { connect, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { QueryCounter } from './support/query-counter';
import { startTestServer, type TestServer } from './support/server';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { asRecipient, World, type Person, type TeamRef } from './support/world';

// A message pushed live by the instance that sent it is executed with the
// author its send read, and audited as delivered (MESSAGE_DELIVERED, with
// each recipient's role and team) from the participants the send read at the
// commit: the delivery reads neither them nor the author again.

// The author, and nothing else the execution would read (no thread).
const MESSAGE_ADDED = 'subscription { messageAdded { id body author { id name } } }';

let server: TestServer;
let counter: QueryCounter;
let world: World;
let patient: Person;
let professionals: Person[];
let team: TeamRef;
let threadId: string;
const clients: Client[] = [];

beforeAll(async () => {
  counter = new QueryCounter();
  // The outbox relay's rounds and the audit sealer's run on their own clocks; ones longer than the test keep them out of the count.
  server = await startTestServer({ OUTBOX_RELAY_MS: '600000', AUDIT_SEAL_MS: '3600000' }, { queryLogger: counter });
  world = await World.create(server);
  professionals = [await world.professional('Dr One'), await world.professional('Dr Two'), await world.professional('Dr Three')];
  patient = await world.patient('Pat Delivered');
  team = await world.team('Delivered', { autoCc: true, members: professionals });
  await world.share(patient, team);
  threadId = await world.thread(patient, [asRecipient(team)]);
}, 30_000);
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server.close();
});

const readsParticipants = (sql: string) => /^SELECT .* FROM "([^"]+"\.")?participants" "?p"? INNER JOIN "([^"]+"\.")?users"/is.test(sql.trim());
const readsUsers = (sql: string) => /^SELECT .* FROM "([^"]+"\.")?users"/is.test(sql.trim());

test('the delivery of a message sent on this instance is executed and audited without reading its participants or author again', async () => {
  const feeds: Feed<unknown>[] = [patient, ...professionals].map((person) => {
    const client = connect(server.wsUrl, person.token);
    clients.push(client);
    return subscribe(client, MESSAGE_ADDED);
  });
  await untilSubscribed(server, feeds.length);
  const sendAndSettle = async (body: string) => {
    const before = feeds.map((feed) => feed.received.length);
    const messageId = await world.send(professionals[0], threadId, body);
    await until(() => feeds.every((feed, i) => feed.received.length === before[i] + 1));
    await server.app.audit.settled();
    return messageId;
  };
  await sendAndSettle('Warm');
  counter.reset();
  const messageId = await sendAndSettle('Counted');

  for (const feed of feeds) expect(feed.received.at(-1)).toEqual({ messageAdded: { id: messageId, body: 'Counted', author: { id: professionals[0].id, name: 'Dr One' } } });
  // The send's own read of the participants, and the caller's session: nothing more.
  expect(counter.statements.filter(readsParticipants)).toHaveLength(1);
  expect(counter.statements.filter((sql) => readsUsers(sql) && !readsParticipants(sql))).toHaveLength(1);
  // With each recipient's role and team, and the author's, as at the commit.
  const delivered = await server.app.db.getRepository(AuditEvent).findOneByOrFail({ messageId, action: AuditAction.MessageDelivered });
  expect({ actorId: delivered.actorId, actorRole: delivered.actorRole, actorTeamId: delivered.actorTeamId }).toEqual({ actorId: professionals[0].id, actorRole: 'PROFESSIONAL', actorTeamId: team.id });
  const recipients = [{ id: patient.id, role: 'PATIENT', teamId: null }, ...professionals.map(({ id }) => ({ id, role: 'PROFESSIONAL', teamId: team.id }))];
  expect(JSON.parse(delivered.recipients!)).toEqual(recipients.sort((a, b) => (a.id < b.id ? -1 : 1)));
});
