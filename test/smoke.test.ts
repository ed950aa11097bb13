import { gql, ok } from './support/graphql';
import { connect, subscribe, untilSubscribed } from './support/live';
import { asRecipient, useWorld } from './support/world';

const env = useWorld();

test('a patient messages an auto-CC team and every contactable member receives it live', async () => {
  const a = await env.world.professional('Dr A');
  const b = await env.world.professional('Dr B');
  const team = await env.world.team('Diabetes', { autoCc: true, members: [a, b] });
  const pat = await env.world.patient('Pat');
  await env.world.share(pat, team);
  const clients = [connect(env.server.wsUrl, a.token), connect(env.server.wsUrl, b.token)];
  const feeds = clients.map((c) => subscribe(c, 'subscription { messageAdded { body author { name } } }'));
  await untilSubscribed(env.server, 2);
  const id = await env.world.thread(pat, [asRecipient(team)], 'Sugar is high');
  for (const feed of feeds) expect((await feed.waitFor(1))[0].messageAdded.body).toBe('Sugar is high');
  const data = await ok(env.server.url, `query($id: ID!) { thread(id: $id) { participants { user { name } viaTeam { name } } messages { edges { node { body } } } } }`, { id }, a.token);
  expect(data.thread.participants).toHaveLength(3);
  await Promise.all(clients.map((c) => c.dispose()));
  expect((await gql(env.server.url, '{ me { id } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});
