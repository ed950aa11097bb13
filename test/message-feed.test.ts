import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { newId } from '../src/common/ids';
import { MESSAGE_ADDED } from '../src/events/event-bus';
import { toMessageData } from '../src/modules/messages/message-data';
import { Message } from '../src/modules/messages/message.entity';
import { User } from '../src/modules/users/user.entity';
import { connect, settle, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { commitUnpublished } from './support/unpublished';
import { asRecipient, useLiveWorld, type Person } from './support/world';

// The per-subscriber feed (src/modules/messages/message-feed.ts): events can
// arrive twice, late or out of order (publishing follows the commit, instances
// publish independently, a Redis reconnect re-sends). Each case is made with
// the real event bus of a real server: a message stored without being
// published is a lost or delayed event; publishing one again is a duplicate.

const env = useLiveWorld();
const { clients } = env;

interface Added {
  messageAdded: { id: string; body: string };
}

function listen(person: Person, threadId?: string): Feed<Added> & { client: Client } {
  const client = connect(env.server.wsUrl, person.token);
  clients.push(client);
  const feed = subscribe<Added>(client, 'subscription($t: ID) { messageAdded(threadId: $t) { id body } }', threadId ? { t: threadId } : {});
  return { ...feed, client };
}

const bodies = (feed: Feed<Added>) => feed.received.map((r) => r.messageAdded.body);

/** Stores a message as sendMessage would, but publishes nothing: its event is lost, or late if published afterwards. */
async function storeSilently(author: Person, threadId: string, body: string) {
  const { app } = env.server;
  const user = await app.db.getRepository(User).findOneByOrFail({ id: author.id });
  return commitUnpublished(app, (tx) => app.messages.append(tx, user, threadId, body, null));
}

async function pair(label: string) {
  const doctor = await env.world.professional(`${label} Dr`);
  const nurse = await env.world.professional(`${label} Nurse`);
  return { doctor, nurse };
}

/**
 * A doctor's thread with a nurse who listens (to that thread only, or to all
 * her threads) and has already received the doctor's first message, 'one'.
 */
async function nurseListening(label: string, scope: 'thread' | 'all') {
  const { doctor, nurse } = await pair(label);
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'zero');
  const feed = listen(nurse, scope === 'thread' ? threadId : undefined);
  await untilSubscribed(env.server, 1);
  const first = await env.world.send(doctor, threadId, 'one');
  await feed.waitFor(1);
  return { doctor, nurse, threadId, feed, first };
}

test('drops a duplicate event: a message published twice reaches the subscriber once', async () => {
  const { doctor, nurse, threadId, feed, first } = await nurseListening('Dup', 'thread');
  const stored = await env.server.app.db.getRepository(Message).findOneByOrFail({ id: first });
  // Under another event id: the bus would drop the same id before the feed sees it.
  void env.server.app.events.publish({ id: newId(), topic: MESSAGE_ADDED, payload: { message: toMessageData(stored), recipientIds: [doctor.id, nurse.id] } });
  await env.world.send(doctor, threadId, 'two');

  await feed.waitFor(2);
  await settle(feed.client);
  expect(bodies(feed)).toEqual(['one', 'two']);
});

test('fills a gap from the database: a message whose event never came is delivered, in order, before the next one', async () => {
  const { doctor, nurse, threadId, feed } = await nurseListening('Gap', 'all');
  await storeSilently(doctor, threadId, 'two');
  await env.world.send(nurse, threadId, 'three');

  await feed.waitFor(3);
  await settle(feed.client);
  expect(bodies(feed)).toEqual(['one', 'two', 'three']);
});

test('a message committed after subscribing reaches the subscriber in order even when a later one is published first', async () => {
  const { doctor, nurse } = await pair('Late');
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'before subscribing');
  const feed = listen(nurse, threadId);
  await untilSubscribed(env.server, 1);

  const two = await storeSilently(doctor, threadId, 'two');
  const three = await storeSilently(doctor, threadId, 'three');
  three.publish();
  await feed.waitFor(2);
  // The late event of 'two' is now a duplicate.
  two.publish();
  await settle(feed.client);
  expect(bodies(feed)).toEqual(['two', 'three']);
});

test('forgets a thread when an event shows the viewer left: what was sent while they were out never reaches them, even after they are added again', async () => {
  const { doctor, nurse } = await pair('Forget');
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'zero');
  const nurseFeed = listen(nurse);
  const doctorFeed = listen(doctor);
  await untilSubscribed(env.server, 2);

  await env.world.send(doctor, threadId, 'one');
  await nurseFeed.waitFor(1);
  await env.world.leave(nurse, threadId);
  await env.world.send(doctor, threadId, 'two, while the nurse is out');
  await env.world.as(doctor, `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`, {
    t: threadId,
    r: [asRecipient(nurse)],
  });
  // Had the feed kept its place in the thread (seq 2 of 'one'), seq 4 would look like a gap and be
  // filled with 'two' from the database.
  await env.world.send(doctor, threadId, 'three');

  await doctorFeed.waitFor(3);
  await nurseFeed.waitFor(2);
  await settle(nurseFeed.client);
  expect(bodies(doctorFeed)).toEqual(['one', 'two, while the nurse is out', 'three']);
  expect(bodies(nurseFeed)).toEqual(['one', 'three']);
});

test('a burst of thousands of events at once (as a republish after a Redis outage makes) neither overflows a subscriber nor crashes the server', async () => {
  const { doctor, nurse, threadId, feed, first } = await nurseListening('Burst', 'thread');
  const stored = await env.server.app.db.getRepository(Message).findOneByOrFail({ id: first });
  // Published synchronously, faster than any subscriber can take them.
  for (let i = 0; i < 5000; i++) {
    void env.server.app.events.publish({ id: newId(), topic: MESSAGE_ADDED, payload: { message: toMessageData(stored), recipientIds: [doctor.id, nurse.id] } });
  }
  await env.world.send(doctor, threadId, 'two');

  await feed.waitFor(2, 10_000);
  await settle(feed.client);
  expect(bodies(feed)).toEqual(['one', 'two']);
  expect(feed.errors).toEqual([]);
});

test('a client that stops reading is cut off once its backlog is full, and never holds back the others', async () => {
  const { doctor, nurse, threadId, feed } = await nurseListening('Stall', 'thread');
  // The doctor's socket stops reading: its kernel buffers fill, then the server's backlog grows.
  const sockets: WebSocket[] = [];
  const stalled = createClient({
    url: env.server.wsUrl,
    webSocketImpl: class extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    },
    connectionParams: { authorization: `Bearer ${doctor.token}` },
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(stalled);
  const stalledFeed = subscribe<Added>(stalled, 'subscription($t: ID) { messageAdded(threadId: $t) { id body } }', { t: threadId });
  await untilSubscribed(env.server, 2);
  (sockets[0] as unknown as { _socket: { pause(): void } })._socket.pause();

  // 400 messages of 64 kB (25 MB), beyond the backlog a socket may hold, published as committed, a
  // few at a time: this process is the nurse's client too, and reads between them.
  const stored = await env.server.app.db.getRepository(Message).findOneByOrFail({ threadId, seq: 2 });
  const big = 'x'.repeat(64 * 1024);
  for (let seq = 3; seq <= 402; seq++) {
    const message = { ...toMessageData(stored), id: newId(), seq, body: `${seq} ${big}` };
    void env.server.app.events.publish({ id: newId(), topic: MESSAGE_ADDED, payload: { message, recipientIds: [doctor.id, nurse.id] } });
    if (seq % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  await feed.waitFor(401, 30_000);
  expect(feed.received.slice(1).map((r) => Number(r.messageAdded.body.split(' ')[0]))).toEqual(Array.from({ length: 400 }, (_, i) => i + 3));
  // The server let the stalled socket go: only the nurse's subscription is left.
  await until(() => env.server.live.size === 1);
  expect(stalledFeed.received.length).toBeLessThan(400);
}, 60_000);

test('a long-lived subscription does not keep the events it has seen', async () => {
  const { doctor, nurse, threadId, feed, first } = await nurseListening('Keep', 'thread');

  // Events the feed has passed on or dropped must be garbage once delivered; a subscription
  // that kept each one (as Promise.race against a never-settling promise does) grows all day.
  const stored = await env.server.app.db.getRepository(Message).findOneByOrFail({ id: first });
  const seen: WeakRef<object>[] = [];
  for (let i = 0; i < 50; i++) {
    const event = { message: toMessageData(stored), recipientIds: [doctor.id, nurse.id] };
    seen.push(new WeakRef(event));
    void env.server.app.events.publish({ id: newId(), topic: MESSAGE_ADDED, payload: event });
  }
  await env.world.send(doctor, threadId, 'two');
  await feed.waitFor(2);
  await settle(feed.client);

  const gc = exposeGc();
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The Repeater may hold on to the one value it buffered last; never to the rest.
  expect(seen.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
});

/** The collector, without starting node with --expose-gc. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
