import type { GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { newId } from '../src/common/ids';
import { MESSAGE_ADDED as EVENT_MESSAGE_ADDED } from '../src/events/event-bus';
import { toMessageData } from '../src/modules/messages/message-data';
import { Message } from '../src/modules/messages/message.entity';
import { connect, settle, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { asRecipient, useLiveWorld, type Person } from './support/world';
import { MarkThreadReadDocument, SendMessageDocument } from '../web/gql/graphql';

// The "Live feeds" rules of docs/domain.md, checked with real graphql-ws clients
// against a real server. A negative check ("received nothing") only means
// something after the positive receivers got the same event and the negative
// client has been settled.

const MESSAGE_ADDED = 'subscription($threadId: ID) { messageAdded(threadId: $threadId) { id threadId body } }';

interface Added {
  messageAdded: { id: string; threadId: string; body: string };
}

const env = useLiveWorld();
const { clients } = env;

/** A live client for `person`, disposed after the test. */
function online(person: Person): Client {
  const client = connect(env.server.wsUrl, person.token);
  clients.push(client);
  return client;
}

/** `person` listens to messageAdded (optionally for one thread). */
function listen(person: Person, threadId?: string): Feed<Added> & { client: Client } {
  const client = online(person);
  return { ...subscribe<Added>(client, MESSAGE_ADDED, threadId ? { threadId } : {}), client };
}

const bodies = (feed: Feed<Added>) => feed.received.map((r) => r.messageAdded.body);

/**
 * Subscribes and waits for the stream to end. Resolves with the errors it
 * ended with; an empty array means the server accepted the subscription and
 * closed it silently. Rejects if the server keeps it open with no error.
 */
function refusal(client: Client, query: string, variables: Record<string, unknown>): Promise<GraphQLFormattedError[]> {
  return new Promise((resolve, reject) => {
    const errors: GraphQLFormattedError[] = [];
    const timer = setTimeout(() => reject(new Error('the subscription was accepted and left open')), 3000);
    const done = () => {
      clearTimeout(timer);
      resolve(errors);
    };
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) errors.push(...value.errors);
          if (value.data) {
            clearTimeout(timer);
            reject(new Error(`unexpected data ${JSON.stringify(value.data)}`));
          }
        },
        error: (error) => {
          if (Array.isArray(error)) errors.push(...(error as GraphQLFormattedError[]));
          else errors.push({ message: String(error) });
          done();
        },
        complete: done,
      },
    );
  });
}

test('messageAdded pushes each new message, the first one too, to every subscribed participant and to nobody else', async () => {
  const { a, b, quiet, team, pat } = await env.world.careTeam('Fanout');
  const outsider = await env.world.professional('Fanout Outsider');
  const feeds = { a: listen(a), b: listen(b), pat: listen(pat), quiet: listen(quiet), outsider: listen(outsider) };
  await untilSubscribed(env.server, 5);

  const threadId = await env.world.thread(pat, [asRecipient(team)], 'first: my sugar is high');
  await env.world.send(a, threadId, 'reply: come in tomorrow');

  for (const feed of [feeds.a, feeds.b, feeds.pat]) {
    await feed.waitFor(2);
    expect(bodies(feed)).toEqual(['first: my sugar is high', 'reply: come in tomorrow']);
    expect(feed.received.every((r) => r.messageAdded.threadId === threadId)).toBe(true);
    expect(feed.errors).toEqual([]);
  }
  // The non-contactable member was never added through the team; the outsider was never picked.
  for (const feed of [feeds.quiet, feeds.outsider]) {
    await settle(feed.client);
    expect(feed.received).toEqual([]);
    expect(feed.errors).toEqual([]);
  }
});

test('a participant added later starts receiving without re-subscribing', async () => {
  const doctor = await env.world.professional('Later Dr');
  const colleague = await env.world.professional('Later Colleague');
  const latecomer = await env.world.professional('Later Latecomer');
  const feeds = { colleague: listen(colleague), latecomer: listen(latecomer) };
  await untilSubscribed(env.server, 2);

  const threadId = await env.world.thread(doctor, [asRecipient(colleague)], 'before');
  await feeds.colleague.waitFor(1);
  await settle(feeds.latecomer.client);
  expect(feeds.latecomer.received).toEqual([]);

  await env.world.addParticipants(doctor, threadId, [latecomer]);
  await env.world.send(doctor, threadId, 'after');

  await feeds.latecomer.waitFor(1);
  await feeds.colleague.waitFor(2);
  expect(bodies(feeds.latecomer)).toEqual(['after']);
  expect(env.server.live.size).toBe(2);
});

test('a member who left receives nothing more', async () => {
  const { a, b, team, pat } = await env.world.careTeam('Leaver');
  const feeds = { a: listen(a), b: listen(b) };
  await untilSubscribed(env.server, 2);

  const threadId = await env.world.thread(pat, [asRecipient(team)], 'while b is here');
  await feeds.b.waitFor(1);
  await env.world.leave(b, threadId);
  // Sent the moment the leave has committed: "stops at once".
  await env.world.send(pat, threadId, 'after b left');
  await env.world.send(a, threadId, 'still after b left');

  await feeds.a.waitFor(3);
  await settle(feeds.b.client);
  expect(bodies(feeds.b)).toEqual(['while b is here']);
  // Another member of the same team stays and keeps receiving.
  expect(bodies(feeds.a)).toEqual(['while b is here', 'after b left', 'still after b left']);
});

test('a member who left receives again, on the same subscription, once someone adds them back', async () => {
  const { a, b, team, pat } = await env.world.careTeam('Returner');
  const feeds = { a: listen(a), b: listen(b) };
  await untilSubscribed(env.server, 2);

  const threadId = await env.world.thread(pat, [asRecipient(team)], 'one');
  await feeds.b.waitFor(1);
  await env.world.leave(b, threadId);
  await env.world.send(pat, threadId, 'two');
  await feeds.a.waitFor(2);

  // b is in an auto-CC team, so they come back through the team.
  await env.world.addParticipants(a, threadId, [team]);
  await env.world.send(pat, threadId, 'three');

  await feeds.b.waitFor(2);
  await feeds.a.waitFor(3);
  expect(bodies(feeds.b)).toEqual(['one', 'three']);
});

test('messageAdded(threadId) delivers only that thread', async () => {
  const doctor = await env.world.professional('Filter Dr');
  const nurse = await env.world.professional('Filter Nurse');
  const watched = await env.world.thread(doctor, [asRecipient(nurse)], 'watched 1', 'Watched');
  const other = await env.world.thread(doctor, [asRecipient(nurse)], 'other 1', 'Other');

  const one = listen(nurse, watched);
  const all = listen(nurse);
  await untilSubscribed(env.server, 2);

  await env.world.send(doctor, other, 'other 2');
  await env.world.send(doctor, watched, 'watched 2');
  await env.world.send(doctor, other, 'other 3');

  await all.waitFor(3);
  await one.waitFor(1);
  await settle(one.client);
  expect(bodies(all)).toEqual(['other 2', 'watched 2', 'other 3']);
  expect(one.received.map((r) => r.messageAdded)).toEqual([expect.objectContaining({ threadId: watched, body: 'watched 2' })]);
});

test('subscribing to a thread the caller cannot see gives NOT_FOUND, not a silent empty stream', async () => {
  const doctor = await env.world.professional('Hidden Dr');
  const nurse = await env.world.professional('Hidden Nurse');
  const stranger = await env.world.professional('Hidden Stranger');
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'private');
  await env.world.leave(nurse, threadId);

  const cases: [string, Person, string][] = [
    ['a thread of others', stranger, threadId],
    ['a thread the caller left', nurse, threadId],
    ['a thread that does not exist', stranger, '00000000-0000-4000-8000-000000000000'],
  ];
  for (const [label, person, id] of cases) {
    const errors = await refusal(online(person), MESSAGE_ADDED, { threadId: id });
    expect({ label, codes: errors.map((e) => e.extensions?.code) }).toEqual({ label, codes: ['NOT_FOUND'] });
    // The same answer for a thread that exists and one that does not.
    expect(errors[0].message).toBe('Thread not found');
  }

  // The participant who stayed can subscribe to it.
  const feed = listen(doctor, threadId);
  await untilSubscribed(env.server, 1);
  await env.world.send(doctor, threadId, 'still here');
  await feed.waitFor(1);
  expect(bodies(feed)).toEqual(['still here']);
});

test("the subscription's Message fields (author, thread, readBy) resolve", async () => {
  const doctor = await env.world.professional('Fields Dr');
  const nurse = await env.world.professional('Fields Nurse');
  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'seen by the nurse', 'Fields');
  await env.world.as(nurse, MarkThreadReadDocument, { threadId });

  const feed = subscribe<any>(
    online(nurse),
    `subscription($t: ID) {
      messageAdded(threadId: $t) {
        id threadId body createdAt
        author { id name kind }
        thread { id subject createdBy { id } participants { user { id } } lastMessage { id } }
        readBy { id }
      }
    }`,
    { t: threadId },
  );
  await untilSubscribed(env.server, 1);
  const id = await env.world.send(doctor, threadId, 'live with fields');

  const [{ messageAdded }] = await feed.waitFor(1);
  expect(feed.errors).toEqual([]);
  expect(messageAdded).toEqual({
    id,
    threadId,
    body: 'live with fields',
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    author: { id: doctor.id, name: 'Fields Dr', kind: 'PROFESSIONAL' },
    thread: {
      id: threadId,
      subject: 'Fields',
      createdBy: { id: doctor.id },
      participants: expect.arrayContaining([{ user: { id: doctor.id } }, { user: { id: nurse.id } }]),
      lastMessage: { id },
    },
    // Nobody but the author has read the new message yet.
    readBy: [],
  });
  expect(messageAdded.thread.participants).toHaveLength(2);

  // The live copy is the stored message.
  const stored = await env.world.as(nurse, `query($t: ID!) { thread(id: $t) { lastMessage { id createdAt body } } }`, { t: threadId });
  expect(stored.thread.lastMessage).toEqual({ id, createdAt: messageAdded.createdAt, body: 'live with fields' });
});

test("recipients share one execution only where the answer is the same for them: each gets their own unread count, and only the author the care team's read time", async () => {
  const doctor = await env.world.professional('Own Dr');
  const nurse = await env.world.professional('Own Nurse');
  const patient = await env.world.patient('Own Pat');
  await env.world.share(patient, doctor);
  const threadId = await env.world.thread(doctor, [asRecipient(nurse), asRecipient(patient)], 'first', 'Own');
  await env.world.as(doctor, SendMessageDocument, { threadId, body: 'a note', staffOnly: true });

  const query = 'subscription { messageAdded { id body readByCareTeamAt thread { id unreadCount } } }';
  const feeds = { doctor: subscribe<any>(online(doctor), query), nurse: subscribe<any>(online(nurse), query), patient: subscribe<any>(online(patient), query) };
  // Without the unread count, the doctor and the nurse share an execution, but not its read time.
  const readTime = 'subscription { messageAdded { id body readByCareTeamAt } }';
  const shared = { doctor: subscribe<any>(online(doctor), readTime), nurse: subscribe<any>(online(nurse), readTime) };
  await untilSubscribed(env.server, 5);
  await env.world.send(doctor, threadId, 'second');
  await Promise.all(Object.values(feeds).map((feed) => feed.waitFor(1)));
  // The nurse reads it: the message the doctor wrote now has a care-team read time, which a re-sent event carries.
  await env.world.as(nurse, MarkThreadReadDocument, { threadId });
  const message = await env.server.app.db.getRepository(Message).findOneByOrFail({ threadId, seq: 3 });
  expect(message.readByCareTeamAt).not.toBeNull();
  await env.world.send(patient, threadId, 'third');

  const received = await Promise.all(Object.values(feeds).map((feed) => feed.waitFor(2)));
  const [doctorSees, nurseSees, patientSees] = received.map((r) => r.map((p: any) => p.messageAdded));
  // Unread: messages by others after the viewer's read mark that they may see (the patient never sees the note).
  expect(doctorSees.map((m: any) => [m.body, m.thread.unreadCount])).toEqual([['second', 0], ['third', 1]]);
  expect(nurseSees.map((m: any) => [m.body, m.thread.unreadCount])).toEqual([['second', 3], ['third', 1]]);
  expect(patientSees.map((m: any) => [m.body, m.thread.unreadCount])).toEqual([['second', 2], ['third', 2]]);
  expect([...doctorSees, ...nurseSees, ...patientSees].map((m: any) => m.readByCareTeamAt)).toEqual([null, null, null, null, null, null]);
  expect((await shared.doctor.waitFor(2)).map((r: any) => r.messageAdded.body)).toEqual(['second', 'third']);
  expect((await shared.nurse.waitFor(2)).map((r: any) => r.messageAdded.body)).toEqual(['second', 'third']);

  // The doctor's read message sent again (as after an outage): its author sees when the care team read it, nobody else does.
  const again = { ...toMessageData(message), seq: 1000 };
  await env.server.app.events.publish({ id: newId(), topic: EVENT_MESSAGE_ADDED, payload: { message: again, recipientIds: [doctor.id, nurse.id, patient.id] } });
  const resent = await Promise.all([...Object.values(feeds), ...Object.values(shared)].map(async (feed) => (await feed.waitFor(3))[2].messageAdded.readByCareTeamAt));
  const readAt = message.readByCareTeamAt!.toISOString();
  expect(resent).toEqual([readAt, null, null, readAt, null]);
});

test('a client that was offline catches up with thread.messages(after: lastCursor) and gets exactly the missed messages', async () => {
  const doctor = await env.world.professional('Offline Dr');
  const nurse = await env.world.professional('Offline Nurse');
  const doctorFeed = listen(doctor);
  const nurseFeed = listen(nurse);
  await untilSubscribed(env.server, 2);

  const threadId = await env.world.thread(doctor, [asRecipient(nurse)], 'seen live');
  const [{ messageAdded: seen }] = await nurseFeed.waitFor(1);
  const page = `query($t: ID!, $after: String) {
    thread(id: $t) { messages(after: $after) { edges { cursor node { id body } } pageInfo { hasNextPage endCursor } } }
  }`;
  const before = await env.world.as(nurse, page, { t: threadId });
  const lastCursor: string = before.thread.messages.pageInfo.endCursor;
  expect(before.thread.messages.edges.at(-1).node.id).toBe(seen.id);

  // The nurse goes offline; the thread moves on without them.
  await nurseFeed.client.dispose();
  await until(() => env.server.live.size === 1);
  const missed = [await env.world.send(doctor, threadId, 'missed 1'), await env.world.send(doctor, threadId, 'missed 2'), await env.world.send(doctor, threadId, 'missed 3')];
  await doctorFeed.waitFor(4);
  expect(nurseFeed.received).toHaveLength(1);

  const after = await env.world.as(nurse, page, { t: threadId, after: lastCursor });
  expect(after.thread.messages.edges.map((e: any) => e.node)).toEqual([
    { id: missed[0], body: 'missed 1' },
    { id: missed[1], body: 'missed 2' },
    { id: missed[2], body: 'missed 3' },
  ]);
  expect(after.thread.messages.pageInfo).toEqual({ hasNextPage: false, endCursor: after.thread.messages.edges[2].cursor });

  // Caught up: nothing after the newest cursor.
  const none = await env.world.as(nurse, page, { t: threadId, after: after.thread.messages.pageInfo.endCursor });
  expect(none.thread.messages.edges).toEqual([]);
});
