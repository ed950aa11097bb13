import { gql, ok } from './support/graphql';
import { connect, subscribe, untilSubscribed } from './support/live';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World } from './support/world';

let server: TestServer;
let world: World;
beforeAll(async () => {
  server = await startTestServer();
  world = await World.create(server);
});
afterAll(() => server.close());

test('a patient messages an auto-CC team and every contactable member receives it live', async () => {
  const a = await world.professional('Dr A');
  const b = await world.professional('Dr B');
  const team = await world.team('Diabetes', { autoCc: true, members: [a, b] });
  const pat = await world.patient('Pat');
  await world.share(pat, team);
  const clients = [connect(server.wsUrl, a.token), connect(server.wsUrl, b.token)];
  const feeds = clients.map((c) => subscribe(c, 'subscription { messageAdded { body author { name } } }'));
  await untilSubscribed(server, 2);
  const id = await world.thread(pat, [asRecipient(team)], 'Sugar is high');
  for (const feed of feeds) expect((await feed.waitFor(1))[0].messageAdded.body).toBe('Sugar is high');
  const data = await ok(server.url, `query($id: ID!) { thread(id: $id) { participants { user { name } viaTeam { name } } messages { edges { node { body } } } } }`, { id }, a.token);
  expect(data.thread.participants).toHaveLength(3);
  await Promise.all(clients.map((c) => c.dispose()));
  expect((await gql(server.url, '{ me { id } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});
