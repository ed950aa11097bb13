import { parse, subscribe as execute, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { getSchema } from '../src/schema';
import { resolversOf } from '../src/resolvers';
import { listen, settle, untilDashboards, type Feed } from './support/live';
import { asRecipient, useLiveWorld, type Person } from './support/world';

// The dashboard feed (threadActivity), checked with real graphql-ws clients
// against a real server, several subscribers at once. As in
// subscriptions.test.ts, "received nothing" is only asserted after the
// receivers of the same event got it and the silent client was settled.

const THREAD_ACTIVITY = `subscription {
  threadActivity {
    kind threadId at
    thread { id subject participants { user { id } } }
    message { id body author { id } }
  }
}`;

interface Activity {
  kind: 'ADDED_TO_THREAD' | 'PARTICIPANTS_CHANGED' | 'MESSAGE_ADDED' | 'LEFT_THREAD';
  threadId: string;
  at: string;
  thread: { id: string; subject: string; participants: { user: { id: string } }[] } | null;
  message: { id: string; body: string; author: { id: string } } | null;
}

type ActivityFeed = Feed<{ threadActivity: Activity }> & { client: Client };

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const env = useLiveWorld();
const { clients } = env;

/** `person`'s dashboard subscribes to threadActivity. */
function dashboard(person: Person): ActivityFeed {
  return listen<{ threadActivity: Activity }>(env.server.wsUrl, person.token, THREAD_ACTIVITY, clients);
}

/** Resolves once `count` dashboards listen (each on several topics). */

const activities = (feed: ActivityFeed) => feed.received.map((r) => r.threadActivity);
const of = (feed: ActivityFeed, threadId: string) => activities(feed).filter((a) => a.threadId === threadId);
/** What a feed said about a thread, readable in a failure: kinds, with the body of each message. */
const story = (feed: ActivityFeed, threadId: string) =>
  of(feed, threadId).map((a) => (a.kind === 'MESSAGE_ADDED' ? `MESSAGE_ADDED: ${a.message?.body}` : a.kind));
const participantIds = (a: Activity) => (a.thread?.participants ?? []).map((p) => p.user.id).sort();
const ids = (...people: Person[]) => people.map((p) => p.id).sort();

test('a recipient of a new thread, picked directly or through an auto-CC team, hears ADDED_TO_THREAD with the thread; nobody else does', async () => {
  const { a, b, quiet, team, pat } = await env.world.careTeam('Added');
  const gp = await env.world.professional('Added GP');
  await env.world.share(pat, gp);
  const outsider = await env.world.professional('Added Outsider');
  const feeds = { a: dashboard(a), b: dashboard(b), gp: dashboard(gp), quiet: dashboard(quiet), outsider: dashboard(outsider) };
  await untilDashboards(env.server, 5);

  const threadId = await env.world.thread(pat, [asRecipient(team), asRecipient(gp)], 'my sugar is high', 'Readings');

  for (const [name, feed] of Object.entries({ a: feeds.a, b: feeds.b, gp: feeds.gp })) {
    await feed.waitFor(2);
    // Two topics: the addition and the first message may arrive in either order.
    expect({ name, story: story(feed, threadId).sort() }).toEqual({ name, story: ['ADDED_TO_THREAD', 'MESSAGE_ADDED: my sugar is high'] });
    const added = of(feed, threadId).find((x) => x.kind === 'ADDED_TO_THREAD')!;
    expect(added).toEqual({ kind: 'ADDED_TO_THREAD', threadId, at: expect.stringMatching(ISO_TIME), thread: expect.any(Object), message: null });
    expect(added.thread).toMatchObject({ id: threadId, subject: 'Readings' });
    expect(participantIds(added)).toEqual(ids(a, b, gp, pat));
    expect(feed.errors).toEqual([]);
  }
  // The non-contactable member was never added through the team; the outsider was never picked.
  for (const feed of [feeds.quiet, feeds.outsider]) {
    await settle(feed.client);
    expect(activities(feed)).toEqual([]);
    expect(feed.errors).toEqual([]);
  }
});

test('the creator of a thread hears only its first message, not an addition or a participants change of their own making', async () => {
  const doctor = await env.world.professional('Creator Dr');
  const nurse = await env.world.professional('Creator Nurse');
  const feeds = { doctor: dashboard(doctor), nurse: dashboard(nurse) };
  await untilDashboards(env.server, 2);

  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'opening', 'Rota');

  await feeds.nurse.waitFor(2);
  await feeds.doctor.waitFor(1);
  await settle(feeds.doctor.client);
  expect(story(feeds.doctor, threadId)).toEqual(['MESSAGE_ADDED: opening']);
  // The message carries the thread, so the creator's other dashboards can list it.
  expect(of(feeds.doctor, threadId)[0]).toMatchObject({ thread: { id: threadId, subject: 'Rota' }, message: { body: 'opening', author: { id: doctor.id } } });
});

test('participants hear PARTICIPANTS_CHANGED when someone is added, the one added hears ADDED_TO_THREAD, and re-picking a participant tells nobody', async () => {
  const doctor = await env.world.professional('Join Dr');
  const nurse = await env.world.professional('Join Nurse');
  const latecomer = await env.world.professional('Join Latecomer');
  const outsider = await env.world.professional('Join Outsider');
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'before');
  const feeds = { doctor: dashboard(doctor), nurse: dashboard(nurse), latecomer: dashboard(latecomer), outsider: dashboard(outsider) };
  await untilDashboards(env.server, 4);

  // Picking someone who is already a participant changes nothing.
  await env.world.addParticipants(doctor, threadId, [nurse]);
  await env.world.addParticipants(doctor, threadId, [latecomer]);

  await feeds.latecomer.waitFor(1);
  expect(story(feeds.latecomer, threadId)).toEqual(['ADDED_TO_THREAD']);
  expect(participantIds(of(feeds.latecomer, threadId)[0])).toEqual(ids(doctor, nurse, latecomer));
  // The one who added them hears it too (their other dashboards).
  for (const feed of [feeds.nurse, feeds.doctor]) {
    await feed.waitFor(1);
    await settle(feed.client);
    expect(story(feed, threadId)).toEqual(['PARTICIPANTS_CHANGED']);
    expect(of(feed, threadId)[0]).toMatchObject({ at: expect.stringMatching(ISO_TIME), message: null });
    expect(participantIds(of(feed, threadId)[0])).toEqual(ids(doctor, nurse, latecomer));
  }
  await settle(feeds.outsider.client);
  expect(activities(feeds.outsider)).toEqual([]);
});

test('participants hear PARTICIPANTS_CHANGED when someone leaves; the leaver hears LEFT_THREAD and then nothing more of that thread', async () => {
  const { a, b, team, pat } = await env.world.careTeam('Leave');
  const colleague = await env.world.professional('Leave Colleague');
  const threadId = await env.world.thread(pat, [asRecipient(team)], 'first');
  const feeds = { a: dashboard(a), b: dashboard(b), pat: dashboard(pat) };
  await untilDashboards(env.server, 3);

  await env.world.leave(b, threadId);
  await feeds.b.waitFor(1);
  expect(activities(feeds.b)).toEqual([{ kind: 'LEFT_THREAD', threadId, at: expect.stringMatching(ISO_TIME), thread: null, message: null }]);

  // The thread goes on without b: a message, someone added, another message.
  await env.world.send(pat, threadId, 'after b left');
  await env.world.addParticipants(a, threadId, [colleague]);
  await env.world.send(a, threadId, 'with the colleague');
  // b's feed is alive: a new thread with b still reaches them.
  const other = await env.world.thread(pat, [asRecipient(team)], 'another thread');

  // a was added to the other thread too; pat created it and hears only its message.
  for (const [feed, count] of [[feeds.a, 6], [feeds.pat, 5]] as const) {
    await feed.waitFor(count);
    expect(story(feed, threadId)).toEqual(['PARTICIPANTS_CHANGED', 'MESSAGE_ADDED: after b left', 'PARTICIPANTS_CHANGED', 'MESSAGE_ADDED: with the colleague']);
    expect(participantIds(of(feed, threadId)[0])).toEqual(ids(a, pat));
  }
  await feeds.b.waitFor(3);
  await settle(feeds.b.client);
  expect(story(feeds.b, threadId)).toEqual(['LEFT_THREAD']);
  expect(story(feeds.b, other).sort()).toEqual(['ADDED_TO_THREAD', 'MESSAGE_ADDED: another thread']);
});

test('a member who left and is added back hears ADDED_TO_THREAD on the same subscription, then the thread again', async () => {
  const { a, b, team, pat } = await env.world.careTeam('Return');
  const threadId = await env.world.thread(pat, [asRecipient(team)], 'one');
  await env.world.leave(b, threadId);
  const feed = dashboard(b);
  await untilDashboards(env.server, 1);

  await env.world.addParticipants(a, threadId, [team]);
  await env.world.send(pat, threadId, 'two');

  await feed.waitFor(2);
  expect(story(feed, threadId)).toEqual(['ADDED_TO_THREAD', 'MESSAGE_ADDED: two']);
  expect(of(feed, threadId)[0].thread).toMatchObject({ id: threadId });
});

test("a thread's message reaches every participant's feed as MESSAGE_ADDED, the author's too, and no one else's", async () => {
  const { a, b, quiet, team, pat } = await env.world.careTeam('Message');
  const outsider = await env.world.professional('Message Outsider');
  const threadId = await env.world.thread(pat, [asRecipient(team)], 'first', 'Feet');
  const leaver = b;
  await env.world.leave(leaver, threadId);
  const feeds = { a: dashboard(a), pat: dashboard(pat), leaver: dashboard(leaver), quiet: dashboard(quiet), outsider: dashboard(outsider) };
  await untilDashboards(env.server, 5);

  const id = await env.world.send(a, threadId, 'check your feet daily');

  for (const feed of [feeds.a, feeds.pat]) {
    const [{ threadActivity }] = await feed.waitFor(1);
    expect(threadActivity).toEqual({
      kind: 'MESSAGE_ADDED',
      threadId,
      at: expect.stringMatching(ISO_TIME),
      thread: { id: threadId, subject: 'Feet', participants: expect.any(Array) },
      message: { id, body: 'check your feet daily', author: { id: a.id } },
    });
    expect(feed.errors).toEqual([]);
  }
  for (const feed of [feeds.leaver, feeds.quiet, feeds.outsider]) {
    await settle(feed.client);
    expect(activities(feed)).toEqual([]);
  }
});

test('a socket without a valid token cannot subscribe to threadActivity, and the subscription itself refuses a caller without one', async () => {
  for (const params of [{}, { authorization: 'Bearer not-a-jwt' }]) {
    const received: unknown[] = [];
    const closed = await new Promise<number>((resolve) => {
      const client = createClient({
        url: env.server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: params,
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      clients.push(client);
      client.subscribe({ query: THREAD_ACTIVITY }, { next: (value) => received.push(value), error: () => undefined, complete: () => undefined });
    });
    expect({ params, closed, received }).toEqual({ params, closed: 4401, received: [] });
  }
  expect(env.server.live.size).toBe(0);

  // Behind the socket's check: the subscribe function needs a viewer of its own.
  const result = (await execute({
    schema: await getSchema(),
    document: parse(THREAD_ACTIVITY),
    contextValue: { viewer: null, authError: null, container: resolversOf(env.server.app) },
  })) as ExecutionResult;
  expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  expect(env.server.live.size).toBe(0);
});
