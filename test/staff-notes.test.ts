import type { Client } from 'graphql-ws';
import { User } from '../src/modules/users/user.entity';
import { auditEvents, deliveriesRecorded } from './support/audit-requests';
import { failure } from './support/graphql';
import { connect, settle, subscribe, until, untilSubscribed, type Feed } from './support/live';
import { TEST_REDIS_URL } from './support/redis';
import type { TestServer } from './support/server';
import { useTwoInstances } from './support/two-instances';
import { asRecipient, useLiveWorld, World, type Person, type TeamRef } from './support/world';
import { commitUnpublished } from './support/unpublished';
import { MarkThreadDoneDocument, MarkThreadReadDocument, type MessageFieldsFragment, SendMessageDocument } from '../web/gql/graphql';

// Staff-only notes (issue 8): a professional participant posts a note that
// only the professionals of the thread see, marked as such. A patient in the
// thread receives nothing of it, over HTTP or websockets: not in messages
// (on any page), lastMessage, unreadCount, the order of their threads, their
// audit trail or access log, messageAdded or threadActivity. As in
// subscriptions.test.ts, "received nothing" is only asserted after the
// receivers of the same event got it and the silent client was settled.

const env = useLiveWorld();
const { clients } = env;

interface Msg {
  id: string;
  body: string;
  staffOnly: boolean;
}

const MSG = 'id body staffOnly';
const VIEW = `query($t: ID!) { thread(id: $t) { unreadCount lastMessage { ${MSG} } } }`;
const PAGE = `query($t: ID!, $first: Int, $after: String) {
  thread(id: $t) { messages(first: $first, after: $after) { edges { cursor node { ${MSG} } } pageInfo { hasNextPage endCursor } } }
}`;
const THREADS = `{ threads(first: 100) { edges { cursor node { id lastActivityAt } } } }`;
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { action messageId actor { id } } }`;
const ACCESS_LOG = `query($own: Boolean!) { myAccessLog(first: 100, includeOwn: $own) { edges { node { action threadId messageId who { id } } } } }`;
const INBOX_ITEM = 'teamId status waitingSince assignee { id } doneBy { id }';

const MESSAGE_ADDED = `subscription($t: ID) { messageAdded(threadId: $t) { threadId ${MSG} } }`;
const THREAD_ACTIVITY = `subscription { threadActivity { kind threadId message { ${MSG} } thread { id unreadCount lastMessage { ${MSG} } } } }`;

/** Posts a staff-only note as `author`. */
async function note(author: Person, threadId: string, body: string, clientMessageId?: string): Promise<Msg & { author: { id: string } }> {
  return asNote((await env.world.as(author, SendMessageDocument, { threadId, body, clientMessageId: clientMessageId ?? null, staffOnly: true })).sendMessage);
}

/** What these tests compare of a sent message: its MSG fields and its author. */
const asNote = ({ id, body, staffOnly, author }: MessageFieldsFragment): Msg & { author: { id: string } } => ({ id, body, staffOnly, author: { id: author.id } });

/** Sends an ordinary message as `author`; returns its id. */
const send = (author: Person, threadId: string, body: string) => env.world.send(author, threadId, body);

/** unreadCount and lastMessage of the thread, as `viewer` sees them. */
async function view(viewer: Person, threadId: string): Promise<{ unreadCount: number; lastMessage: Msg | null }> {
  return (await env.world.as(viewer, VIEW, { t: threadId })).thread;
}

/** Every message of the thread as `viewer` sees it, `first` at a time, following endCursor; checks the page sizes on the way. */
async function walk(viewer: Person, threadId: string, first = 100, after: string | null = null): Promise<Msg[]> {
  const messages: Msg[] = [];
  for (let pages = 0; pages < 200; pages++) {
    const { thread } = await env.world.as(viewer, PAGE, { t: threadId, first, after });
    const { edges, pageInfo } = thread.messages as { edges: { node: Msg }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    messages.push(...edges.map((e) => e.node));
    if (!pageInfo.hasNextPage) {
      expect(edges.length).toBeLessThanOrEqual(first);
      return messages;
    }
    expect(edges).toHaveLength(first);
    after = pageInfo.endCursor;
  }
  throw new Error('the thread never ends');
}

const bodiesOf = (messages: Msg[]) => messages.map((m) => m.body);

/** The ids of `viewer`'s threads, in their order, with their cursors and the time they are ordered by. */
async function threadsOf(viewer: Person): Promise<{ cursor: string; id: string; lastActivityAt: string }[]> {
  const { threads } = await env.world.as(viewer, THREADS);
  return threads.edges.map((e: { cursor: string; node: { id: string; lastActivityAt: string } }) => ({ cursor: e.cursor, ...e.node }));
}

/** Thread.inbox as `who` sees it. */
async function inboxOf(who: Person, threadId: string) {
  return (await env.world.as(who, `query($t: ID!) { thread(id: $t) { inbox { ${INBOX_ITEM} } } }`, { t: threadId })).thread.inbox as {
    teamId: string;
    status: string;
    waitingSince: string | null;
  }[];
}

/** The thread's row in the team's inbox listing (OPEN or DONE), as `who` sees it. */
async function listedIn(who: Person, team: TeamRef, threadId: string, status: 'OPEN' | 'DONE') {
  const { teamInbox } = await env.world.as(
    who,
    `query($team: ID!, $s: InboxStatus) { teamInbox(teamId: $team, status: $s, first: 100) { edges { node { threadId ${INBOX_ITEM} } } } }`,
    { team: team.id, s: status },
  );
  return teamInbox.edges.map((e: { node: { threadId: string } }) => e.node).find((n: { threadId: string }) => n.threadId === threadId) ?? null;
}

/** A patient's thread to the auto-CC care team of `label`, opened with one message. */
async function patientThread(label: string, body = 'my sugar is high') {
  const people = await env.world.careTeam(label);
  const threadId = await env.world.thread(people.pat, [asRecipient(people.team)], body);
  return { ...people, threadId };
}

interface Added {
  messageAdded: Msg & { threadId: string };
}
interface Activity {
  threadActivity: {
    kind: string;
    threadId: string;
    message: Msg | null;
    thread: { id: string; unreadCount: number; lastMessage: Msg | null } | null;
  };
}

/** One person online: messageAdded for all their threads, for one thread, and their dashboard, on one socket. */
interface Live {
  client: Client;
  all: Feed<Added>;
  thread: Feed<Added>;
  dashboard: Feed<Activity>;
}

/** `person` subscribes to everything live on `server` (this file's server unless told); the subscriptions are counted in `untilListening`. */
function online(person: Person, threadId: string, server: TestServer = env.server): Live {
  const client = connect(server.wsUrl, person.token);
  clients.push(client);
  return {
    client,
    all: subscribe<Added>(client, MESSAGE_ADDED),
    thread: subscribe<Added>(client, MESSAGE_ADDED, { t: threadId }),
    dashboard: subscribe<Activity>(client, THREAD_ACTIVITY),
  };
}

/** Live subscriptions one `online` person holds. */
const LISTENERS_PER_PERSON = 3;

const untilListening = (people: number, server: TestServer = env.server) => untilSubscribed(server, people * LISTENERS_PER_PERSON);

/** The messages `live` got, per subscription: messageAdded (all, one thread) and threadActivity's MESSAGE_ADDED. */
function heard(live: Live) {
  return {
    all: live.all.received.map((r) => r.messageAdded),
    thread: live.thread.received.map((r) => r.messageAdded),
    dashboard: live.dashboard.received.filter((r) => r.threadActivity.kind === 'MESSAGE_ADDED').map((r) => r.threadActivity.message!),
  };
}

/** The bodies `live` heard on each of its three subscriptions. */
function heardBodies(live: Live) {
  const h = heard(live);
  return { all: bodiesOf(h.all), thread: bodiesOf(h.thread), dashboard: bodiesOf(h.dashboard) };
}

/** Waits until each of `live`'s three subscriptions has heard the message `body`. */
async function untilHeard(live: Live, body: string, timeoutMs = 5000) {
  await until(() => Object.values(heardBodies(live)).every((bodies) => bodies.includes(body)), timeoutMs);
}

const same = (bodies: string[]) => ({ all: bodies, thread: bodies, dashboard: bodies });

function noErrors(...lives: Live[]) {
  for (const live of lives) {
    expect(live.all.errors).toEqual([]);
    expect(live.thread.errors).toEqual([]);
    expect(live.dashboard.errors).toEqual([]);
  }
}

describe('what professionals see', () => {
  test('a professional participant posts a note: it comes back marked staffOnly, and the professionals of the thread see it as such in messages, lastMessage and unreadCount', async () => {
    const { a, b, threadId } = await patientThread('Staff see');
    const before = await view(b, threadId);
    expect(before.unreadCount).toBe(1);

    const posted = await note(a, threadId, 'query: check the HbA1c first');
    expect(posted).toEqual({ id: expect.any(String), body: 'query: check the HbA1c first', staffOnly: true, author: { id: a.id } });
    const reply = await env.world.as(a, SendMessageDocument, { threadId, body: 'we will call you', staffOnly: null });
    expect(reply.sendMessage.staffOnly).toBe(false);

    for (const viewer of [a, b]) {
      expect(await walk(viewer, threadId)).toEqual([
        { id: expect.any(String), body: 'my sugar is high', staffOnly: false },
        { id: posted.id, body: posted.body, staffOnly: true },
        { id: reply.sendMessage.id, body: 'we will call you', staffOnly: false },
      ]);
    }
    // b has not read the note or the reply; a wrote both.
    expect(await view(b, threadId)).toEqual({ unreadCount: 3, lastMessage: { id: reply.sendMessage.id, body: 'we will call you', staffOnly: false } });
    expect((await view(a, threadId)).unreadCount).toBe(1);

    await note(b, threadId, 'agreed');
    expect((await view(a, threadId)).lastMessage).toEqual({ id: expect.any(String), body: 'agreed', staffOnly: true });
    expect((await view(a, threadId)).unreadCount).toBe(2);
  });

  test('a professional added later sees the notes in the history', async () => {
    const { a, pat, threadId } = await patientThread('Later');
    const noteBefore = await note(a, threadId, 'before the GP came');
    const gp = await env.world.professional('Later GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(a, threadId, [gp]);

    expect(bodiesOf(await walk(gp, threadId, 1))).toEqual(['my sugar is high', 'before the GP came']);
    expect(await view(gp, threadId)).toEqual({ unreadCount: 2, lastMessage: { id: noteBefore.id, body: 'before the GP came', staffOnly: true } });
  });

  test('a note is read by professionals only: the patient never appears in its readBy, even after marking the thread read past it', async () => {
    const { a, b, pat, threadId } = await patientThread('Read by');
    const posted = await note(a, threadId, 'is this the second episode?');
    await env.world.as(pat, MarkThreadReadDocument, { threadId });
    await env.world.as(b, MarkThreadReadDocument, { threadId });

    const { thread } = await env.world.as(a, `query($t: ID!) { thread(id: $t) { messages { edges { node { id readBy { id } } } } } }`, { t: threadId });
    const readers = (id: string) => thread.messages.edges.find((e: { node: { id: string } }) => e.node.id === id).node.readBy.map((u: { id: string }) => u.id).sort();
    expect(readers(posted.id)).toEqual([b.id]);
    // The patient's own message: b read it, as before (a has not marked the thread read).
    expect(readers(thread.messages.edges[0].node.id)).toEqual([b.id]);
  });

  test('a retry with the same clientMessageId returns the stored note, and nothing is stored twice', async () => {
    const { a, b, pat, threadId } = await patientThread('Retry');
    const first = await note(a, threadId, 'note once', 'n-1');
    expect(await note(a, threadId, 'note once', 'n-1')).toEqual(first);
    // The key is what counts: a retry that forgot the flag still gets the stored note back.
    const again = await env.world.as(a, SendMessageDocument, { threadId, body: 'note once', clientMessageId: 'n-1', staffOnly: false });
    expect(asNote(again.sendMessage)).toEqual(first);

    expect(bodiesOf(await walk(b, threadId))).toEqual(['my sugar is high', 'note once']);
    expect(bodiesOf(await walk(pat, threadId))).toEqual(['my sugar is high']);
  });
});

describe('who may post one', () => {
  test('a patient posting staffOnly gets FORBIDDEN and nothing is stored; the same clientMessageId then works for an ordinary message', async () => {
    const { a, pat, threadId } = await patientThread('Patient posts');
    for (const c of [null, 'p-1']) {
      const refused = await failure(env.server.url, SendMessageDocument, { threadId, body: 'can I see the notes?', clientMessageId: c, staffOnly: true }, pat.token);
      expect(refused.extensions?.code).toBe('FORBIDDEN');
    }
    expect(bodiesOf(await walk(a, threadId))).toEqual(['my sugar is high']);

    const ordinary = await env.world.as(pat, SendMessageDocument, { threadId, body: 'an ordinary question', clientMessageId: 'p-1', staffOnly: false });
    expect(ordinary.sendMessage.staffOnly).toBe(false);
    expect(bodiesOf(await walk(a, threadId))).toEqual(['my sugar is high', 'an ordinary question']);
  });

  test('a professional who is not in the thread, or who left it, gets NOT_FOUND and nothing is stored', async () => {
    const { a, b, threadId } = await patientThread('Outsider posts');
    const outsider = await env.world.professional('Outsider posts stranger');
    await env.world.leave(b, threadId);
    for (const who of [outsider, b]) {
      const refused = await failure(env.server.url, SendMessageDocument, { threadId, body: 'psst', staffOnly: true }, who.token);
      expect(refused).toMatchObject({ message: 'Thread not found', extensions: { code: 'NOT_FOUND' } });
    }
    expect(bodiesOf(await walk(a, threadId))).toEqual(['my sugar is high']);
  });
});

describe('what a patient sees over HTTP: nothing of a note', () => {
  test('thread.messages leaves notes out, on one page and across pages of every size', async () => {
    const { a, b, pat, threadId } = await patientThread('Pages', 'one');
    await send(a, threadId, 'two');
    await note(a, threadId, 'note A');
    await note(b, threadId, 'note B');
    await send(b, threadId, 'three');
    await note(a, threadId, 'note C');
    await send(pat, threadId, 'four');
    await note(b, threadId, 'note D');
    await note(a, threadId, 'note E');

    const visible = ['one', 'two', 'three', 'four'];
    for (const first of [1, 2, 3, 4, 5, 50]) {
      const seen = await walk(pat, threadId, first);
      expect({ first, bodies: bodiesOf(seen) }).toEqual({ first, bodies: visible });
      expect(seen.every((m) => m.staffOnly === false)).toBe(true);
    }
    // After the cursor of a visible message that notes follow: the next visible one, never a note.
    const { thread } = await env.world.as(pat, PAGE, { t: threadId, first: 2 });
    expect(bodiesOf(await walk(pat, threadId, 1, thread.messages.pageInfo.endCursor))).toEqual(['three', 'four']);
    // The last page ends at the last visible message, even though notes follow it.
    const tail = await env.world.as(pat, PAGE, { t: threadId, first: 1, after: (await env.world.as(pat, PAGE, { t: threadId, first: 3 })).thread.messages.pageInfo.endCursor });
    expect(tail.thread.messages.edges.map((e: { node: Msg }) => e.node.body)).toEqual(['four']);
    expect(tail.thread.messages.pageInfo.hasNextPage).toBe(false);

    // The professionals see all nine, page by page.
    expect(bodiesOf(await walk(a, threadId, 2))).toEqual(['one', 'two', 'note A', 'note B', 'three', 'note C', 'four', 'note D', 'note E']);
  });

  test('lastMessage is the last visible message, and unreadCount does not move for a note', async () => {
    const { a, pat, threadId } = await patientThread('Last');
    const answer = await send(a, threadId, 'come in tomorrow');
    expect(await view(pat, threadId)).toEqual({ unreadCount: 1, lastMessage: { id: answer, body: 'come in tomorrow', staffOnly: false } });

    await note(a, threadId, 'bring the glucose meter data');
    await note(a, threadId, 'and the foot check');
    expect(await view(pat, threadId)).toEqual({ unreadCount: 1, lastMessage: { id: answer, body: 'come in tomorrow', staffOnly: false } });

    await env.world.as(pat, MarkThreadReadDocument, { threadId });
    await note(a, threadId, 'after the patient read');
    expect(await view(pat, threadId)).toEqual({ unreadCount: 0, lastMessage: { id: answer, body: 'come in tomorrow', staffOnly: false } });

    // A visible message after notes counts once, and becomes lastMessage.
    const later = await send(a, threadId, 'see you at 9');
    expect(await view(pat, threadId)).toEqual({ unreadCount: 1, lastMessage: { id: later, body: 'see you at 9', staffOnly: false } });
  });

  test('the order of threads, and the lastActivityAt it goes by, do not move for a note, for the patient or the staff (cursors unchanged too)', async () => {
    const { a, team, pat, threadId: older } = await patientThread('Order', 'older thread');
    await send(a, older, 'an answer');
    const newer = await env.world.thread(pat, [asRecipient(team)], 'newer thread');
    const before = await threadsOf(pat);
    expect(before.map((t) => t.id).slice(0, 2)).toEqual([newer, older]);
    expect(await threadsOf(a)).toEqual(before);

    await note(a, older, 'note in the older thread');
    await note(a, older, 'another');
    expect(await threadsOf(pat)).toEqual(before);
    expect(await threadsOf(a)).toEqual(before);

    const answer = await env.world.as(a, SendMessageDocument, { threadId: older, body: 'a visible answer moves it' });
    const after = await threadsOf(pat);
    expect(after.map((t) => t.id).slice(0, 2)).toEqual([older, newer]);
    expect(after[0]!.lastActivityAt).toBe(answer.sendMessage.createdAt);
  });

  test('a second patient in the thread sees none of it either', async () => {
    const { a, team, pat, threadId } = await patientThread('Second');
    const carer = await env.world.patient('Second Carer');
    await env.world.share(carer, team);
    await env.world.addParticipants(a, threadId, [carer]);
    const answer = await send(a, threadId, 'hello both');
    await note(a, threadId, 'the carer seems worried');

    for (const viewer of [pat, carer]) {
      expect(bodiesOf(await walk(viewer, threadId, 1))).toEqual(['my sugar is high', 'hello both']);
      expect((await view(viewer, threadId)).lastMessage).toEqual({ id: answer, body: 'hello both', staffOnly: false });
    }
    expect((await view(carer, threadId)).unreadCount).toBe(2);
    expect((await view(pat, threadId)).unreadCount).toBe(1);
  });

  test('the audit trail and access log a patient reads say nothing about a note (no MESSAGE_SENT, no MESSAGE_DELIVERED), with includeOwn true or false', async () => {
    const { a, b, pat, threadId } = await patientThread('Audit');
    // b and the patient are online, so the deliveries of both messages are recorded.
    const bLive = online(b, threadId);
    const patLive = online(pat, threadId);
    await untilListening(2);

    const posted = await note(a, threadId, 'audited note');
    await untilHeard(bLive, 'audited note');
    await deliveriesRecorded(env.server, posted.id, 1);
    const answer = await send(a, threadId, 'audited answer');
    await untilHeard(bLive, 'audited answer');
    await untilHeard(patLive, 'audited answer');
    await deliveriesRecorded(env.server, answer, 2);

    // The note's events exist: for the admin and for the professionals in the thread.
    const all = await auditEvents(env.server.url, env.world.admin.token, { threadId });
    // Deliveries are written in batches: one message may have more than one MESSAGE_DELIVERED.
    const actionsAbout = (events: { action: string; messageId: string | null }[], messageId: string) =>
      [...new Set(events.filter((e) => e.messageId === messageId).map((e) => e.action))].sort();
    const aboutNote = (events: { action: string; messageId: string | null }[]) => actionsAbout(events, posted.id);
    expect(aboutNote(all)).toEqual(['MESSAGE_DELIVERED', 'MESSAGE_SENT']);
    expect(aboutNote((await env.world.as(b, TRAIL, { t: threadId })).auditTrail)).toEqual(['MESSAGE_DELIVERED', 'MESSAGE_SENT']);

    const trail = (await env.world.as(pat, TRAIL, { t: threadId })).auditTrail as { action: string; messageId: string | null }[];
    expect(aboutNote(trail)).toEqual([]);
    // The answer's are there: the filter is about the note, not about messages.
    expect(actionsAbout(trail, answer)).toEqual(['MESSAGE_DELIVERED', 'MESSAGE_SENT']);
    expect(trail.filter((e) => e.action === 'MESSAGE_SENT').length).toBe(2);
    expect(trail.filter((e) => e.action === 'MESSAGE_DELIVERED').every((e) => e.messageId === answer)).toBe(true);

    for (const own of [false, true]) {
      const { myAccessLog } = await env.world.as(pat, ACCESS_LOG, { own });
      const entries = (myAccessLog.edges as { node: { action: string; threadId: string; messageId: string | null; who: { id: string } } }[])
        .map((e) => e.node)
        .filter((e) => e.threadId === threadId);
      expect({ own, aboutNote: entries.filter((e) => e.messageId === posted.id) }).toEqual({ own, aboutNote: [] });
      const delivered = entries.filter((e) => e.action === 'MESSAGE_DELIVERED');
      expect({ own, messages: [...new Set(delivered.map((e) => e.messageId))] }).toEqual({ own, messages: [answer] });
      expect({ own, to: [...new Set(delivered.map((e) => e.who.id))].sort() }).toEqual({ own, to: own ? [b.id, pat.id].sort() : [b.id] });
    }
    noErrors(bLive, patLive);
  });
});

describe('the team inbox: a note is no answer to the patient and no message from them', () => {
  test("a note does not end the patient's wait (teamInbox and thread.inbox); a visible reply does", async () => {
    const { a, b, team, threadId } = await patientThread('Wait');
    const [opened] = await inboxOf(a, threadId);
    expect(opened.waitingSince).toEqual(expect.any(String));

    await note(a, threadId, 'who takes this one?');
    await note(b, threadId, 'me, after clinic');
    for (const who of [a, b]) {
      expect((await inboxOf(who, threadId)).map((i) => i.waitingSince)).toEqual([opened.waitingSince]);
      expect((await listedIn(who, team, threadId, 'OPEN')).waitingSince).toBe(opened.waitingSince);
    }

    await send(b, threadId, 'we will call you this afternoon');
    expect((await inboxOf(a, threadId))[0].waitingSince).toBeNull();
    // Nor does a note start a wait once nobody waits.
    await note(a, threadId, 'thanks b');
    expect((await inboxOf(a, threadId))[0].waitingSince).toBeNull();
  });

  test('a note does not reopen a thread marked done; a patient message does', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Done');
    await send(a, threadId, 'all sorted');
    await env.world.as(a, MarkThreadDoneDocument, { threadId, teamId: team.id });

    await note(b, threadId, 'for the record: sorted by phone');
    expect(await inboxOf(a, threadId)).toEqual([{ teamId: team.id, status: 'DONE', waitingSince: null, assignee: null, doneBy: { id: a.id } }]);
    expect(await listedIn(b, team, threadId, 'DONE')).toMatchObject({ status: 'DONE', waitingSince: null });
    expect(await listedIn(b, team, threadId, 'OPEN')).toBeNull();

    await send(pat, threadId, 'one more thing');
    expect((await inboxOf(a, threadId))[0]).toMatchObject({ status: 'OPEN', waitingSince: expect.any(String) });
  });
});

describe('what a patient receives live: nothing of a note', () => {
  test('the professionals hear the note on messageAdded (all threads and threadId) and threadActivity, marked staffOnly; the patient hears nothing, then the next visible message, alone', async () => {
    const { a, b, pat, threadId } = await patientThread('Live');
    const live = { a: online(a, threadId), b: online(b, threadId), pat: online(pat, threadId) };
    await untilListening(3);

    const posted = await note(a, threadId, 'live note');
    for (const staff of [live.a, live.b]) {
      await untilHeard(staff, 'live note');
      const h = heard(staff);
      for (const message of [...h.all, ...h.thread, ...h.dashboard]) expect(message).toMatchObject({ id: posted.id, body: 'live note', staffOnly: true });
    }
    // b's dashboard sees the thread with the note as its last message, and counts it unread.
    const bNote = live.b.dashboard.received.find((r) => r.threadActivity.message?.id === posted.id)!.threadActivity;
    expect(bNote.thread).toEqual({ id: threadId, unreadCount: 2, lastMessage: { id: posted.id, body: 'live note', staffOnly: true } });
    await settle(live.pat.client);
    expect(live.pat.all.received).toEqual([]);
    expect(live.pat.thread.received).toEqual([]);
    expect(live.pat.dashboard.received).toEqual([]);

    const answer = await send(a, threadId, 'visible after the note');
    await untilHeard(live.pat, 'visible after the note');
    await untilHeard(live.b, 'visible after the note');
    await settle(live.pat.client);
    expect(heardBodies(live.pat)).toEqual(same(['visible after the note']));
    for (const message of Object.values(heard(live.pat)).flat()) expect(message).toMatchObject({ id: answer, staffOnly: false });
    // The patient's dashboard: that one message and nothing else (no inbox change, no note).
    expect(live.pat.dashboard.received.map((r) => r.threadActivity.kind)).toEqual(['MESSAGE_ADDED']);
    expect(live.pat.dashboard.received[0].threadActivity.thread).toEqual({
      id: threadId,
      unreadCount: 1,
      lastMessage: { id: answer, body: 'visible after the note', staffOnly: false },
    });
    expect(heardBodies(live.b)).toEqual(same(['live note', 'visible after the note']));
    noErrors(...Object.values(live));
  });

  test('several notes in a row, then visible messages, then notes again: the patient gets exactly the visible ones, in order, once', async () => {
    const { a, b, pat, threadId } = await patientThread('Row');
    const live = { b: online(b, threadId), pat: online(pat, threadId) };
    await untilListening(2);

    const script: [Person, string, boolean][] = [
      [a, 'note 1', true],
      [b, 'note 2', true],
      [a, 'note 3', true],
      [a, 'visible 1', false],
      [b, 'note 4', true],
      [a, 'visible 2', false],
      [pat, 'visible 3 (patient)', false],
      [a, 'note 5', true],
      [b, 'note 6', true],
      [a, 'visible 4', false],
    ];
    for (const [who, body, staffOnly] of script) await env.world.as(who, SendMessageDocument, { threadId, body, staffOnly });

    await untilHeard(live.b, 'visible 4');
    await untilHeard(live.pat, 'visible 4');
    await settle(live.pat.client);
    await settle(live.b.client);
    expect(heardBodies(live.pat)).toEqual(same(['visible 1', 'visible 2', 'visible 3 (patient)', 'visible 4']));
    expect(heardBodies(live.b)).toEqual(same(script.map(([, body]) => body)));
    for (const message of Object.values(heard(live.pat)).flat()) expect(message.staffOnly).toBe(false);
    noErrors(...Object.values(live));
  });

  test('a note whose event was lost: the professional gets it from the gap filler, the patient never (the gap is filled without it), and its late event reaches nobody', async () => {
    const { a, b, pat, threadId } = await patientThread('Lost');
    const live = { b: online(b, threadId), pat: online(pat, threadId) };
    await untilListening(2);

    // Stored as sendMessage stores a note, but its event never goes out.
    const { app } = env.server;
    const author = await app.db.getRepository(User).findOneByOrFail({ id: a.id });
    const lost = await commitUnpublished(app, (tx) => app.messages.append(tx, author, threadId, 'note whose event was lost', null, true));
    expect(lost.value.staffOnly).toBe(true);
    await send(a, threadId, 'visible after the gap');

    await untilHeard(live.b, 'visible after the gap');
    await untilHeard(live.pat, 'visible after the gap');
    await settle(live.pat.client);
    expect(heardBodies(live.b)).toEqual(same(['note whose event was lost', 'visible after the gap']));
    expect(heardBodies(live.pat)).toEqual(same(['visible after the gap']));

    // The lost event turns up late: a duplicate for everyone.
    lost.publish();
    await send(a, threadId, 'visible after the late event');
    await untilHeard(live.b, 'visible after the late event');
    await untilHeard(live.pat, 'visible after the late event');
    await settle(live.pat.client);
    await settle(live.b.client);
    expect(heardBodies(live.b)).toEqual(same(['note whose event was lost', 'visible after the gap', 'visible after the late event']));
    expect(heardBodies(live.pat)).toEqual(same(['visible after the gap', 'visible after the late event']));
    noErrors(...Object.values(live));
  });

  test('notes and messages sent while the patient subscribes: the patient gets the visible ones from some point on, in order, once, and never a note', async () => {
    const { a, b, pat, threadId } = await patientThread('Starting');
    // Subscriptions start, and messages go out at once, without waiting for them.
    const live = { b: online(b, threadId), pat: online(pat, threadId) };
    const all: string[] = [];
    for (let i = 1; i <= 8; i++) {
      for (const [body, staffOnly] of [[`note ${i}`, true], [`visible ${i}`, false]] as const) {
        await env.world.as(a, SendMessageDocument, { threadId, body, staffOnly });
        all.push(body);
      }
    }
    await untilListening(2);
    await send(a, threadId, 'visible last');
    all.push('visible last');

    await untilHeard(live.b, 'visible last');
    await untilHeard(live.pat, 'visible last');
    await settle(live.pat.client);
    await settle(live.b.client);
    const visible = all.filter((body) => !body.startsWith('note'));
    for (const bodies of Object.values(heardBodies(live.pat))) {
      // Whatever the subscription caught: a run of the visible messages up to the last, nothing else.
      expect(bodies).toEqual(visible.slice(visible.length - bodies.length));
    }
    for (const bodies of Object.values(heardBodies(live.b))) expect(bodies).toEqual(all.slice(all.length - bodies.length));
    noErrors(...Object.values(live));
  });

  test('a second patient in the thread receives nothing of a note either, while a professional added later does', async () => {
    const { a, team, pat, threadId } = await patientThread('Live second');
    const carer = await env.world.patient('Live second Carer');
    await env.world.share(carer, team);
    const gp = await env.world.professional('Live second GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(a, threadId, [carer]);
    const live = { pat: online(pat, threadId), carer: online(carer, threadId) };
    // The GP listens to all their threads before being in this one: participation is checked per event.
    const gpClient = connect(env.server.wsUrl, gp.token);
    clients.push(gpClient);
    const gpFeed = subscribe<Added>(gpClient, MESSAGE_ADDED);
    await untilSubscribed(env.server, 2 * LISTENERS_PER_PERSON + 1);
    await env.world.addParticipants(a, threadId, [gp]);

    await note(a, threadId, 'between us');
    await gpFeed.waitFor(1);
    await send(a, threadId, 'to everyone');
    for (const who of [live.pat, live.carer]) {
      await untilHeard(who, 'to everyone');
      await settle(who.client);
      expect(heardBodies(who)).toEqual(same(['to everyone']));
    }
    await gpFeed.waitFor(2);
    expect(gpFeed.received.map((r) => [r.messageAdded.body, r.messageAdded.staffOnly])).toEqual([
      ['between us', true],
      ['to everyone', false],
    ]);
    noErrors(...Object.values(live));
  });
});

describe('across instances', () => {
  const instances = useTwoInstances('staff-notes', { clients });

  test('a note posted through instance A reaches the professional on B, never the patient on B, who then gets the next visible message', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a: first, b: second } = instances;
    const onA = await World.create(first);
    const a = await onA.professional('Remote Dr A');
    const b = await onA.professional('Remote Dr B');
    const team = await onA.team('Remote Team', { autoCc: true, members: [a, b] });
    const pat = await onA.patient('Remote Pat');
    await onA.share(pat, team);
    const threadId = await onA.thread(pat, [asRecipient(team)], 'opening');
    const bOnB = online(b, threadId, second);
    const patOnB = online(pat, threadId, second);
    await untilListening(2, second);

    // Instance B's Redis link may still be starting: send through A until B delivers.
    const deadline = Date.now() + 10_000;
    let probes = 0;
    while (!heardBodies(bOnB).all.length) {
      if (Date.now() > deadline) throw new Error('instance B never received a message sent through A');
      await onA.send(a, threadId, `probe ${++probes}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lastProbe = `probe ${probes}`;
    await untilHeard(bOnB, lastProbe);
    await untilHeard(patOnB, lastProbe);
    await settle(patOnB.client);
    const before = { b: heardBodies(bOnB), pat: heardBodies(patOnB) };

    await onA.as(a, SendMessageDocument, { threadId, body: 'remote note', staffOnly: true });
    await untilHeard(bOnB, 'remote note');
    expect(heard(bOnB).all.at(-1)).toMatchObject({ body: 'remote note', staffOnly: true });
    await settle(patOnB.client);
    expect(heardBodies(patOnB)).toEqual(before.pat);

    await onA.send(a, threadId, 'remote visible');
    await untilHeard(patOnB, 'remote visible');
    await untilHeard(bOnB, 'remote visible');
    await settle(patOnB.client);
    for (const [key, bodies] of Object.entries(heardBodies(patOnB)) as [keyof typeof before.pat, string[]][]) {
      expect({ key, added: bodies.slice(before.pat[key].length) }).toEqual({ key, added: ['remote visible'] });
    }
    for (const [key, bodies] of Object.entries(heardBodies(bOnB)) as [keyof typeof before.b, string[]][]) {
      expect({ key, added: bodies.slice(before.b[key].length) }).toEqual({ key, added: ['remote note', 'remote visible'] });
    }
    // Over HTTP on B, too.
    const onB = await World.create(second);
    const { thread } = await onB.as(pat, PAGE, { t: threadId, first: 100 });
    expect(thread.messages.edges.map((e: { node: Msg }) => e.node.body)).not.toContain('remote note');
    noErrors(bOnB, patOnB);
  });
});
