import type { Client } from 'graphql-ws';
import { User } from '../src/modules/users/user.entity';
import { connect, subscribe, untilSubscribed, type Feed } from './support/live';
import { asRecipient, useLiveWorld, type Person } from './support/world';
import { commitUnpublished } from './support/unpublished';
import { MarkThreadReadDocument } from '../web/gql/graphql';

// The patient's read receipt (issue 7): on their own messages, the author
// sees whether someone in the care team has read them, and when; nobody else
// sees it, and it never says who. "The care team" is any professional in the
// thread other than the author, so a professional's own messages get a
// receipt too.

const env = useLiveWorld();
const { clients } = env;

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Marks the thread read as `who`; returns the time of the mark (their lastReadAt). */
async function markRead(who: Person, threadId: string): Promise<string> {
  const { markThreadRead } = await env.world.as(who, MarkThreadReadDocument, { threadId });
  return markThreadRead.participants.find((p) => p.user.id === who.id)!.lastReadAt!;
}

/** readByCareTeamAt of every message of the thread, oldest first, as `viewer` sees it. */
async function receipts(viewer: Person, threadId: string): Promise<(string | null)[]> {
  const { thread } = await env.world.as(viewer, `query($t: ID!) { thread(id: $t) { messages { edges { node { readByCareTeamAt } } } } }`, {
    t: threadId,
  });
  return thread.messages.edges.map((e: { node: { readByCareTeamAt: string | null } }) => e.node.readByCareTeamAt);
}

/** A patient's thread to the auto-CC care team of `label`, opened with one message. */
async function patientThread(label: string) {
  const people = await env.world.careTeam(label);
  const threadId = await env.world.thread(people.pat, [asRecipient(people.team)], 'my sugar is high');
  return { ...people, threadId };
}

describe('Message.readByCareTeamAt: when the care team first read a message, shown to its author', () => {
  test("a patient's message to an auto-CC team shows null until a professional marks the thread read, then the time of that mark", async () => {
    const { a, pat, threadId } = await patientThread('First read');
    expect(await receipts(pat, threadId)).toEqual([null]);

    const before = Date.now();
    const mark = await markRead(a, threadId);
    const after = Date.now();

    const [readAt] = await receipts(pat, threadId);
    expect(readAt).toBe(mark);
    expect(Date.parse(readAt!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(readAt!)).toBeLessThanOrEqual(after);
  });

  test('a later read, by another professional or by the same one again, never moves it', async () => {
    const { a, b, pat, threadId } = await patientThread('Kept');
    const first = await markRead(a, threadId);
    await tick();
    expect(await markRead(b, threadId)).not.toBe(first);
    await markRead(a, threadId);
    expect(await receipts(pat, threadId)).toEqual([first]);
  });

  test('the patient marking the thread read sets nothing, on their messages or on the care team\'s', async () => {
    const { a, pat, threadId } = await patientThread('Patient reads');
    await env.world.send(a, threadId, 'come in tomorrow');
    await markRead(pat, threadId);
    expect(await receipts(pat, threadId)).toEqual([null, null]);
    expect(await receipts(a, threadId)).toEqual([null, null]);
  });

  test('a read covers only what the reader could have read: not their own messages, not messages sent after their mark', async () => {
    const { a, pat, threadId } = await patientThread('Up to the mark');
    await env.world.send(a, threadId, 'two, by a');
    const byA = await markRead(a, threadId);
    await env.world.send(pat, threadId, 'three, after the mark');
    expect(await receipts(pat, threadId)).toEqual([byA, null, null]);
    expect(await receipts(a, threadId)).toEqual([null, null, null]);
  });

  test('a professional author sees it too, once another professional has read their message', async () => {
    const { a, b, pat, threadId } = await patientThread('Professional author');
    await env.world.send(a, threadId, 'two, by a');
    const byA = await markRead(a, threadId);
    await markRead(pat, threadId);
    expect(await receipts(a, threadId)).toEqual([null, null]);

    await tick();
    const byB = await markRead(b, threadId);
    expect(await receipts(a, threadId)).toEqual([null, byB]);
    expect(await receipts(pat, threadId)).toEqual([byA, null]);
  });

  test("nobody but the author sees it: the care team and another patient in the thread see null on the patient's message", async () => {
    const { a, b, team, pat, threadId } = await patientThread('Others');
    const other = await env.world.patient('Others Second Pat');
    await env.world.share(other, team);
    await env.world.addParticipants(a, threadId, [other]);
    const byA = await markRead(a, threadId);
    await markRead(b, threadId);

    expect(await receipts(pat, threadId)).toEqual([byA]);
    for (const viewer of [a, b, other]) expect(await receipts(viewer, threadId)).toEqual([null]);
  });

  test('says when, never who: the field is a nullable DateTime, with no user in it', async () => {
    const { pat } = await patientThread('Never who');
    const { __type } = await env.world.as(pat, `{ __type(name: "Message") { fields { name type { kind name } } } }`);
    const field = __type.fields.find((f: { name: string }) => f.name === 'readByCareTeamAt');
    expect(field.type).toEqual({ kind: 'SCALAR', name: 'DateTime' });
  });
});

describe('messages pushed live resolve it too', () => {
  const LIVE_FIELDS = 'body readByCareTeamAt';

  interface Live {
    added: Feed<{ messageAdded: { body: string; readByCareTeamAt: string | null } }>;
    dashboard: Feed<{ threadActivity: { message: { body: string; readByCareTeamAt: string | null } | null } }>;
  }

  function online(person: Person): Client {
    const client = connect(env.server.wsUrl, person.token);
    clients.push(client);
    return client;
  }

  /** `person` listens to messageAdded, then to their dashboard (threadActivity: two topics at least, listened to at once), both selecting the receipt. */
  async function listening(person: Person): Promise<Live> {
    const base = env.server.live.size;
    const added = subscribe(online(person), `subscription { messageAdded { ${LIVE_FIELDS} } }`);
    await untilSubscribed(env.server, base + 1);
    const dashboard = subscribe(online(person), `subscription { threadActivity { message { ${LIVE_FIELDS} } } }`);
    await untilSubscribed(env.server, base + 2);
    return { added, dashboard };
  }

  /** The messages a feed got, as its subscriber saw them; waits for `count` of them. */
  async function messages(live: Live, count: number) {
    await live.added.waitFor(count);
    // The dashboard also says ADDED_TO_THREAD and such, with no message.
    await live.dashboard.waitFor(count);
    expect(live.added.errors).toEqual([]);
    expect(live.dashboard.errors).toEqual([]);
    return {
      added: live.added.received.map((r) => r.messageAdded),
      dashboard: live.dashboard.received.flatMap((r) => (r.threadActivity.message ? [r.threadActivity.message] : [])),
    };
  }

  /** Stores a message as sendMessage would but publishes nothing: its event is lost, and the next one fills the gap from the database. */
  async function storeSilently(author: Person, threadId: string, body: string) {
    const { app } = env.server;
    const user = await app.db.getRepository(User).findOneByOrFail({ id: author.id });
    await commitUnpublished(app, (tx) => app.messages.append(tx, user, threadId, body, null));
  }

  test('a new message is pushed with null, to its author and to the care team', async () => {
    const { a, pat, threadId } = await patientThread('Live new');
    await markRead(a, threadId);
    const live = { pat: await listening(pat), a: await listening(a) };

    await env.world.send(pat, threadId, 'two');

    const expected = [{ body: 'two', readByCareTeamAt: null }];
    for (const feed of Object.values(live)) expect(await messages(feed, 1)).toEqual({ added: expected, dashboard: expected });
  });

  test('a message whose event was lost, delivered later to fill the gap, carries the time the care team read it meanwhile', async () => {
    const { a, pat, threadId } = await patientThread('Live gap');
    const live = await listening(pat);
    await storeSilently(pat, threadId, 'two, its event lost');
    const byA = await markRead(a, threadId);

    await env.world.send(a, threadId, 'three, by a');

    const expected = [
      { body: 'two, its event lost', readByCareTeamAt: byA },
      { body: 'three, by a', readByCareTeamAt: null },
    ];
    expect(await messages(live, 2)).toEqual({ added: expected, dashboard: expected });
  });
});
