import type { Client } from 'graphql-ws';
import { failure, gql, type GqlResult } from './support/graphql';
import { connect, listen, settle, subscribe, until, untilDashboards, untilSubscribed, type Feed } from './support/live';
import { outsideTransaction } from './support/outside-transaction';
import { TEST_REDIS_URL } from './support/redis';
import { TEST_POSTGRES_URL, type TestServer } from './support/server';
import { useTwoInstances } from './support/two-instances';
import { asRecipient, useLiveWorld, World, type Person, type TeamRef } from './support/world';
import { MarkThreadDoneDocument, SendMessageDocument } from '../web/gql/graphql';

// Team membership and a team's threads (issue 8), through the public API of
// real servers: joining an auto-CC team joins the threads open in its inbox;
// leaving a team leaves the threads one was in only through it; becoming not
// contactable leaves everyone where they are. As in thread-activity.test.ts,
// "received nothing" is asserted only after others received the same event
// and the silent client was settled.

const env = useLiveWorld();
const { clients } = env;

const ACTIVITY = `subscription { threadActivity { kind threadId thread { id participants { user { id } } } message { body } } }`;
const MESSAGE_ADDED = 'subscription { messageAdded { threadId body } }';
const REMOVE_MEMBER = `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`;
const THREAD = `query($t: ID!) {
  thread(id: $t) {
    id unreadCount
    participants { user { id } viaTeam { id } addedBy { id } }
    messages(first: 50) { edges { node { body } } }
  }
}`;
const THREADS = `{ threads(first: 100) { edges { node { id } } } }`;
const MESSAGES = `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { body } } } } }`;
const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { action actor { id } subject { id } team { id } } }`;

interface Activity {
  kind: string;
  threadId: string;
  thread: { id: string; participants: { user: { id: string } }[] } | null;
  message: { body: string } | null;
}
type Dashboard = Feed<{ threadActivity: Activity }> & { client: Client; person: Person };
type Messages = Feed<{ messageAdded: { threadId: string; body: string } }> & { client: Client };

/** `person`'s dashboard (threadActivity) on `server`; its client is disposed after the test (or by `own`). */
function dashboard(person: Person, server: TestServer = env.server, own: Client[] = clients): Dashboard {
  return { ...listen<{ threadActivity: Activity }>(server.wsUrl, person.token, ACTIVITY, own), person };
}

/** `person`'s messageAdded on `server`. */
function messages(person: Person, server: TestServer = env.server, own: Client[] = clients): Messages {
  const client = connect(server.wsUrl, person.token);
  own.push(client);
  return { ...subscribe<{ messageAdded: { threadId: string; body: string } }>(client, MESSAGE_ADDED), client };
}

/** What a dashboard said about a thread: kinds, with the body of each message. */
const story = (feed: Dashboard, threadId: string) =>
  feed.received
    .map((r) => r.threadActivity)
    .filter((a) => a.threadId === threadId)
    .map((a) => (a.kind === 'MESSAGE_ADDED' ? `MESSAGE_ADDED: ${a.message?.body}` : a.kind));
const bodies = (feed: Messages, threadId: string) => feed.received.filter((r) => r.messageAdded.threadId === threadId).map((r) => r.messageAdded.body);
const heard = (feed: Dashboard, threadId: string, entry: string) => story(feed, threadId).includes(entry);
const ids = (...people: Person[]) => people.map((p) => p.id).sort();
const participantIds = (a: Activity | undefined) => (a?.thread?.participants ?? []).map((p) => p.user.id).sort();
const lastOf = (feed: Dashboard, threadId: string, kind: string) => feed.received.map((r) => r.threadActivity).filter((a) => a.threadId === threadId && a.kind === kind).at(-1);

const removeMember = (world: World, team: TeamRef, person: Person) => world.as(world.admin, REMOVE_MEMBER, { t: team.id, u: person.id });
const markDone = (world: World, who: Person, threadId: string, team: TeamRef) =>
  world.as(who, MarkThreadDoneDocument, { threadId, teamId: team.id });

/** The ids of `who`'s threads. */
async function threadsOf(who: Person, world: World = env.world): Promise<string[]> {
  const { threads } = await world.as(who, THREADS);
  return (threads.edges as { node: { id: string } }[]).map((e) => e.node.id).sort();
}

/** How `who` is in the thread, as `reader` (a participant) sees it: the team they are in it through, and who added them. */
async function participation(reader: Person, threadId: string, who: Person) {
  const { thread } = await env.world.as(reader, THREAD, { t: threadId });
  const p = (thread.participants as { user: { id: string }; viaTeam: { id: string } | null; addedBy: { id: string } | null }[]).find((x) => x.user.id === who.id);
  return p ? { viaTeam: p.viaTeam?.id ?? null, addedBy: p.addedBy?.id ?? null } : null;
}

/** The error code `who` gets for each way of reaching the thread: the thread, its messages, a new message. */
async function reach(who: Person, threadId: string): Promise<string[]> {
  const url = env.server.url;
  return [
    (await failure(url, `query($t: ID!) { thread(id: $t) { id } }`, { t: threadId }, who.token)).extensions?.code as string,
    (await failure(url, MESSAGES, { t: threadId }, who.token)).extensions?.code as string,
    (await failure(url, SendMessageDocument, { threadId, body: 'still here?' }, who.token)).extensions?.code as string,
  ];
}

/** The thread's participant additions and removals, as the admin reads the trail. */
async function membershipTrail(threadId: string) {
  const { auditTrail } = await env.world.as(env.world.admin, TRAIL, { t: threadId });
  return (auditTrail as { action: string; actor: { id: string }; subject: { id: string } | null; team: { id: string } | null }[])
    .filter((e) => ['PARTICIPANT_ADDED', 'PARTICIPANT_REMOVED', 'PARTICIPANT_LEFT'].includes(e.action))
    .map((e) => ({ action: e.action, actor: e.actor.id, subject: e.subject?.id ?? null, team: e.team?.id ?? null }));
}

describe('joining an auto-CC team', () => {
  test("a contactable professional joins the team's open threads through the team, with their history to read, unread; not its done threads, not another team's, not those of a team without auto-CC", async () => {
    const { a, team, pat } = await env.world.careTeam('Join');
    const open = await env.world.thread(pat, [asRecipient(team)], 'my feet hurt', 'Feet');
    await env.world.send(a, open, 'since when?');
    const done = await env.world.thread(pat, [asRecipient(team)], 'thanks, all good', 'Done');
    await markDone(env.world, a, done, team);
    const otherMember = await env.world.professional('Join Other Dr');
    const other = await env.world.team('Join Other Team', { autoCc: true, members: [otherMember] });
    await env.world.share(pat, other);
    const othersThread = await env.world.thread(pat, [asRecipient(other)], 'for the other team');
    // Addressed while the team had auto-CC, which it no longer has.
    const plainMember = await env.world.professional('Join Plain Dr');
    const plain = await env.world.team('Join Plain Team', { autoCc: true, members: [plainMember] });
    await env.world.share(pat, plain);
    const plainThread = await env.world.thread(pat, [asRecipient(plain)], 'for the plain team');
    await env.world.setAutoCc(plain, false);

    const newbie = await env.world.professional('Join Newbie');
    await env.world.addMember(team, newbie);
    await env.world.addMember(plain, newbie);

    expect(await threadsOf(newbie)).toEqual([open]);
    expect(await participation(a, open, newbie)).toEqual({ viaTeam: team.id, addedBy: env.world.admin.id });
    const { thread } = await env.world.as(newbie, THREAD, { t: open });
    expect(thread.unreadCount).toBe(2);
    expect(thread.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['my feet hurt', 'since when?']);
    for (const threadId of [done, othersThread, plainThread]) expect(await reach(newbie, threadId)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);

    const added = { action: 'PARTICIPANT_ADDED', actor: env.world.admin.id, subject: newbie.id, team: team.id };
    expect((await membershipTrail(open)).at(-1)).toEqual(added);
    for (const threadId of [done, othersThread, plainThread]) expect((await membershipTrail(threadId)).filter((e) => e.subject === newbie.id)).toEqual([]);

    // Adding a current member again changes nothing: a thread they left stays left.
    await env.world.leave(newbie, open);
    await env.world.addMember(team, newbie);
    expect(await threadsOf(newbie)).toEqual([]);
    expect((await membershipTrail(open)).filter((e) => e.subject === newbie.id).map((e) => e.action)).toEqual(['PARTICIPANT_ADDED', 'PARTICIPANT_LEFT']);
  });

  test('a member who is not contactable, or whose account is disabled, joins no thread', async () => {
    const { a, b, quiet, team, pat } = await env.world.careTeam('Join refused');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'anyone?');
    const silent = await env.world.professional('Join refused Silent', { contactable: false });
    const disabled = await env.world.professional('Join refused Disabled');
    await env.world.as(env.world.admin, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: disabled.id });

    await env.world.addMember(team, silent);
    await env.world.addMember(team, disabled);

    const { thread } = await env.world.as(a, THREAD, { t: threadId });
    expect(thread.participants.map((p: { user: { id: string } }) => p.user.id).sort()).toEqual(ids(a, b, pat));
    expect(await threadsOf(silent)).toEqual([]);
    expect((await membershipTrail(threadId)).map((e) => e.subject).filter((id) => [silent.id, disabled.id, quiet.id].includes(id!))).toEqual([]);
  });

  test('the one who joins hears ADDED_TO_THREAD and then the thread live; the participants hear PARTICIPANTS_CHANGED', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Join live');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'first');
    const newbie = await env.world.professional('Join live Newbie');
    const feeds = { newbie: dashboard(newbie), a: dashboard(a), pat: dashboard(pat) };
    const newbieMessages = messages(newbie);
    await untilSubscribed(env.server, 4);

    await env.world.addMember(team, newbie);
    await feeds.newbie.waitFor(1);
    expect(story(feeds.newbie, threadId)).toEqual(['ADDED_TO_THREAD']);
    expect(participantIds(lastOf(feeds.newbie, threadId, 'ADDED_TO_THREAD'))).toEqual(ids(a, b, pat, newbie));
    for (const feed of [feeds.a, feeds.pat]) {
      await feed.waitFor(1);
      expect(story(feed, threadId)).toEqual(['PARTICIPANTS_CHANGED']);
      expect(participantIds(lastOf(feed, threadId, 'PARTICIPANTS_CHANGED'))).toEqual(ids(a, b, pat, newbie));
    }

    await env.world.send(pat, threadId, 'is anyone new there?');
    await feeds.newbie.waitFor(2);
    expect(story(feeds.newbie, threadId)).toEqual(['ADDED_TO_THREAD', 'MESSAGE_ADDED: is anyone new there?']);
    await newbieMessages.waitFor(1);
    expect(bodies(newbieMessages, threadId)).toEqual(['is anyone new there?']);
    for (const feed of [feeds.newbie, feeds.a, feeds.pat]) expect(feed.errors).toEqual([]);
  });
});

describe('leaving a team', () => {
  test('a member removed from a team loses the threads they were in only through it; threads they were added to directly, threads they created and threads also in the inbox of another team of theirs stay (now through that team)', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Leave');
    const otherMember = await env.world.professional('Leave Other Dr');
    const other = await env.world.team('Leave Other Team', { autoCc: true, members: [otherMember] });
    await env.world.share(pat, other);
    const teamOnly = await env.world.thread(pat, [asRecipient(team)], 'for the team', 'Team only');
    const both = await env.world.thread(pat, [asRecipient(team)], 'for both teams', 'Both');
    await env.world.addParticipants(pat, both, [other]);
    // c is picked directly while in no auto-CC team, then joins both teams (and so their open threads).
    const c = await env.world.professional('Leave Dr C');
    const direct = await env.world.thread(b, [asRecipient(c)], 'between us', 'Direct');
    // A thread c wrote to the team, left, and is back in through the team once they join it.
    const ownLeft = await env.world.thread(c, [asRecipient(team)], 'I wrote to the team before joining it', 'Own, left');
    await env.world.leave(c, ownLeft);
    await env.world.addMember(team, c);
    await env.world.addMember(other, c);
    const own = await env.world.thread(c, [asRecipient(team)], 'I wrote to my own team', 'Own');
    expect(await participation(a, both, c)).toEqual({ viaTeam: team.id, addedBy: env.world.admin.id });
    expect(await participation(a, ownLeft, c)).toEqual({ viaTeam: team.id, addedBy: env.world.admin.id });
    expect(await threadsOf(c)).toEqual([teamOnly, both, direct, own, ownLeft].sort());

    await removeMember(env.world, team, c);

    expect(await threadsOf(c)).toEqual([both, direct, own, ownLeft].sort());
    expect(await reach(c, teamOnly)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(await participation(a, both, c)).toEqual({ viaTeam: other.id, addedBy: env.world.admin.id });
    expect(await participation(b, direct, c)).toEqual({ viaTeam: null, addedBy: b.id });
    expect(await participation(a, own, c)).toEqual({ viaTeam: null, addedBy: null });
    expect(await participation(a, ownLeft, c)).toEqual({ viaTeam: null, addedBy: env.world.admin.id });
    // The others stay in the team's thread.
    expect(await threadsOf(a)).toEqual(expect.arrayContaining([teamOnly, both, own]));

    const removed = { action: 'PARTICIPANT_REMOVED', actor: env.world.admin.id, subject: c.id, team: team.id };
    expect((await membershipTrail(teamOnly)).at(-1)).toEqual(removed);
    for (const threadId of [both, direct, own, ownLeft]) expect((await membershipTrail(threadId)).filter((e) => e.action === 'PARTICIPANT_REMOVED')).toEqual([]);
    // The other members stay as they were.
    expect(await participation(a, teamOnly, b)).toEqual({ viaTeam: team.id, addedBy: pat.id });
  });

  test('the one removed hears REMOVED_FROM_THREAD and then nothing more of that thread, while the thread goes on; the participants hear PARTICIPANTS_CHANGED', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Removed');
    const c = await env.world.professional('Removed Dr C');
    await env.world.addMember(team, c);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'first', 'Removed');
    // A thread c stays in: their feeds live on.
    const kept = await env.world.thread(c, [asRecipient(pat)], 'kept open', 'Kept');
    const feeds = { c: dashboard(c), a: dashboard(a), pat: dashboard(pat) };
    const cMessages = messages(c);
    const aMessages = messages(a);
    await untilSubscribed(env.server, 5);

    await removeMember(env.world, team, c);
    await feeds.c.waitFor(1);
    expect(feeds.c.received.map((r) => r.threadActivity)).toEqual([{ kind: 'REMOVED_FROM_THREAD', threadId, thread: null, message: null }]);
    for (const feed of [feeds.a, feeds.pat]) {
      await feed.waitFor(1);
      expect(story(feed, threadId)).toEqual(['PARTICIPANTS_CHANGED']);
      expect(participantIds(lastOf(feed, threadId, 'PARTICIPANTS_CHANGED'))).toEqual(ids(a, b, pat));
    }

    // The thread goes on without c: a message, a participants change, another message; and c's other thread too.
    await env.world.send(pat, threadId, 'after c was removed');
    await env.world.leave(b, threadId);
    await env.world.send(a, threadId, 'still on it');
    await env.world.send(pat, kept, 'to c, still');
    await until(() => heard(feeds.a, threadId, 'MESSAGE_ADDED: still on it') && heard(feeds.pat, kept, 'MESSAGE_ADDED: to c, still'));
    expect(story(feeds.a, threadId)).toEqual(['PARTICIPANTS_CHANGED', 'MESSAGE_ADDED: after c was removed', 'PARTICIPANTS_CHANGED', 'MESSAGE_ADDED: still on it']);
    await aMessages.waitFor(2);
    await until(() => heard(feeds.c, kept, 'MESSAGE_ADDED: to c, still'));
    await cMessages.waitFor(1);
    await settle(feeds.c.client);
    await settle(cMessages.client);
    expect(story(feeds.c, threadId)).toEqual(['REMOVED_FROM_THREAD']);
    expect(bodies(cMessages, threadId)).toEqual([]);
    expect(bodies(cMessages, kept)).toEqual(['to c, still']);
    for (const feed of [feeds.c, feeds.a, feeds.pat]) expect(feed.errors).toEqual([]);
  });
});

describe('becoming not contactable', () => {
  test('removes nobody from a thread: the member still reads and receives live; only new threads to the team leave them out', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Quiet now');
    await env.world.setCoverageMinimum(team, 1);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'before');
    const feed = dashboard(b);
    await untilDashboards(env.server, 1);

    await env.world.as(b, `mutation($u: ID!) { setContactable(userId: $u, contactable: false) { id } }`, { u: b.id });
    await env.world.send(pat, threadId, 'after');
    await feed.waitFor(1);
    expect(story(feed, threadId)).toEqual(['MESSAGE_ADDED: after']);
    expect(await participation(a, threadId, b)).toEqual({ viaTeam: team.id, addedBy: pat.id });
    expect(await threadsOf(b)).toEqual([threadId]);
    expect((await membershipTrail(threadId)).filter((e) => e.subject === b.id).map((e) => e.action)).toEqual(['PARTICIPANT_ADDED']);

    const later = await env.world.thread(pat, [asRecipient(team)], 'a new question');
    expect(await reach(b, later)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
  });
});

describe('PostgreSQL: membership changes and the thread changes that pick the team take turns', () => {
  // SQLite transactions already take turns. Each test stops a request at a
  // known point with a row lock held from a transaction of its own (outside
  // the server), sends the request it must take turns with, and goes on once
  // the database shows who waits for whom: no sleeping, no guessing at times.
  const pgTest = TEST_POSTGRES_URL ? test : test.skip;
  const CREATE = `mutation($s: String!, $b: String!, $r: [RecipientInput!]!) { createThread(subject: $s, body: $b, recipients: $r) { id } }`;
  const ADD = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`;

  /** A request on its way; `answered()` tells whether its answer has come. */
  function send(request: Promise<GqlResult>) {
    let answered = false;
    const result = request.finally(() => (answered = true));
    return { result, answered: () => answered };
  }
  const remove = (team: TeamRef, person: Person) => send(gql(env.server.url, REMOVE_MEMBER, { t: team.id, u: person.id }, env.world.admin.token));
  const pickTeam = (who: Person, threadId: string, team: TeamRef) => send(gql(env.server.url, ADD, { t: threadId, r: [asRecipient(team)] }, who.token));
  const errorsOf = (...results: GqlResult[]) => results.map((r) => r.errors?.map((e) => `${e.extensions?.code}: ${e.message}`) ?? []);
  const participantsOf = async (reader: Person, threadId: string) =>
    ((await env.world.as(reader, THREAD, { t: threadId })).thread.participants as { user: { id: string } }[]).map((p) => p.user.id).sort();
  const trailOf = async (threadId: string, who: Person) => (await membershipTrail(threadId)).filter((e) => e.subject === who.id).map((e) => e.action);

  pgTest('a member removed while a new thread to the team is being created is not left in it: the removal waits for the thread, then takes them out of it', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Race create');
    const c = await env.world.professional('Race create Dr C');
    // Three contactable members: removing one keeps the minimum of two.
    await env.world.addMember(team, c);
    const outside = await outsideTransaction(env.server);
    try {
      // The new thread's insert checks its author's row: held here, createThread stops after resolving the team's members.
      await outside.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [pat.id]);
      const creating = send(gql(env.server.url, CREATE, { s: 'Race', b: 'for the team only', r: [asRecipient(team)] }, pat.token));
      await outside.untilWaiting(1);
      const removing = remove(team, c);
      // The removal waits behind the thread being made (without the rule, it is through at once).
      await outside.untilWaiting(2, removing.answered);
      await outside.release();
      const [created, removed] = await Promise.all([creating.result, removing.result]);
      expect(errorsOf(created, removed)).toEqual([[], []]);

      const threadId = created.data.createThread.id;
      expect(await participantsOf(a, threadId)).toEqual(ids(a, b, pat));
      expect(await threadsOf(c)).toEqual([]);
      expect(await reach(c, threadId)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
      expect(await trailOf(threadId, c)).toEqual(['PARTICIPANT_ADDED', 'PARTICIPANT_REMOVED']);
    } finally {
      await outside.release();
    }
  });

  pgTest('a member added while a new thread to the team is being created is not left out of it: the addition waits for the thread, then adds them to it', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Race join');
    const c = await env.world.professional('Race join Dr C');
    const outside = await outsideTransaction(env.server);
    try {
      await outside.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [pat.id]);
      const creating = send(gql(env.server.url, CREATE, { s: 'Race', b: 'for the team', r: [asRecipient(team)] }, pat.token));
      await outside.untilWaiting(1);
      const adding = send(gql(env.server.url, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: c.id }, env.world.admin.token));
      await outside.untilWaiting(2, adding.answered);
      await outside.release();
      const [created, added] = await Promise.all([creating.result, adding.result]);
      expect(errorsOf(created, added)).toEqual([[], []]);

      const threadId = created.data.createThread.id;
      expect(await participantsOf(a, threadId)).toEqual(ids(a, b, c, pat));
      expect(await participation(a, threadId, c)).toEqual({ viaTeam: team.id, addedBy: env.world.admin.id });
    } finally {
      await outside.release();
    }
  });

  pgTest('a member removed while the team is being added to a thread is not left in it: the removal waits for the addition, then takes them out of it', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Race add');
    const c = await env.world.professional('Race add Dr C');
    await env.world.addMember(team, c);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'for the team only');
    // c left: picking the team again brings them back.
    await env.world.leave(c, threadId);
    const outside = await outsideTransaction(env.server);
    try {
      // c's participation, written here and not committed: addParticipants resolves the team's members, then waits to write the same row.
      await outside.query(`INSERT INTO participants ("threadId", "userId", "joinedAt", "lastReadSeq") VALUES ($1, $2, now(), 0)`, [threadId, c.id]);
      const adding = pickTeam(b, threadId, team);
      await outside.untilWaiting(1);
      const removing = remove(team, c);
      await outside.untilWaiting(2, removing.answered);
      await outside.release();
      expect(errorsOf(...(await Promise.all([adding.result, removing.result])))).toEqual([[], []]);

      expect(await participantsOf(a, threadId)).toEqual(ids(a, b, pat));
      expect(await threadsOf(c)).toEqual([]);
      expect(await trailOf(threadId, c)).toEqual(['PARTICIPANT_ADDED', 'PARTICIPANT_LEFT', 'PARTICIPANT_ADDED', 'PARTICIPANT_REMOVED']);
    } finally {
      await outside.release();
    }
  });

  pgTest('removing a member while the team is being added to a thread: both go through, one after the other, and neither fails on a deadlock', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Deadlock add');
    const c = await env.world.professional('Deadlock add Dr C');
    await env.world.addMember(team, c);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'for the team');
    // a left: picking the team again brings them back.
    await env.world.leave(a, threadId);
    const outside = await outsideTransaction(env.server);
    try {
      // Held here, the removal stops at deleting c's membership, after locking the team and before the thread.
      await outside.query('SELECT 1 FROM team_members WHERE "teamId" = $1 AND "userId" = $2 FOR UPDATE', [team.id, c.id]);
      const removing = remove(team, c);
      await outside.untilWaiting(1);
      const adding = pickTeam(b, threadId, team);
      // It waits behind the removal (it could also go first: either order will do, a deadlock will not).
      await outside.untilWaiting(2, adding.answered);
      await outside.release();
      expect(errorsOf(...(await Promise.all([removing.result, adding.result])))).toEqual([[], []]);

      // c is out; a, brought back by the team, is in.
      expect(await participantsOf(b, threadId)).toEqual(ids(a, b, pat));
      expect(await participation(b, threadId, a)).toEqual({ viaTeam: team.id, addedBy: b.id });
      expect(await trailOf(threadId, c)).toEqual(['PARTICIPANT_ADDED', 'PARTICIPANT_REMOVED']);
    } finally {
      await outside.release();
    }
  });

  pgTest('removing members of two teams that share a thread at once: both go through, and neither fails on a deadlock', async () => {
    const { a, b, team: first, pat } = await env.world.careTeam('Deadlock two');
    const [c, d, e] = [await env.world.professional('Deadlock two Dr C'), await env.world.professional('Deadlock two Dr D'), await env.world.professional('Deadlock two Dr E')];
    await env.world.addMember(first, c);
    const second = await env.world.team('Deadlock two Second Team', { autoCc: true, members: [c, d, e] });
    await env.world.share(pat, second);
    const threadId = await env.world.thread(pat, [asRecipient(first)], 'for both teams');
    await env.world.addParticipants(pat, threadId, [second]);
    expect(await participation(a, threadId, c)).toEqual({ viaTeam: first.id, addedBy: pat.id });
    const outside = await outsideTransaction(env.server);
    try {
      // Held here, each removal stops at locking the thread, with its own team locked.
      await outside.query('SELECT 1 FROM threads WHERE id = $1 FOR UPDATE', [threadId]);
      const removingC = remove(first, c);
      await outside.untilWaiting(1);
      const removingD = remove(second, d);
      await outside.untilWaiting(2);
      await outside.release();
      // c's removal (first in line for the thread) moves their participation to the second team, which d's removal holds.
      expect(errorsOf(...(await Promise.all([removingC.result, removingD.result])))).toEqual([[], []]);

      expect(await participation(a, threadId, c)).toEqual({ viaTeam: second.id, addedBy: pat.id });
      expect(await participantsOf(a, threadId)).toEqual(ids(a, b, c, e, pat));
    } finally {
      await outside.release();
    }
  });
});

describe('across instances (two servers, one database, events through Redis)', () => {
  const instances = useTwoInstances('membership');
  const own: Client[] = [];

  afterEach(async () => {
    await Promise.all(own.splice(0).map((c) => c.dispose()));
  });

  /**
   * B's Redis link may still be starting: `author` writes into the thread
   * through A until `watcher`'s dashboard on B has heard it.
   */
  async function linked(world: World, author: Person, threadId: string, watcher: Dashboard): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (let n = 1; !watcher.received.some((r) => r.threadActivity.message?.body.startsWith('probe ')); n++) {
      if (Date.now() > deadline) throw new Error('instance B never delivered a message sent through A');
      await world.send(author, threadId, `probe ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  test('a member added through instance A hears of it on instance B, and then the thread live', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a, b } = instances;
    const world = await World.create(a);
    const { a: doctor, team, pat } = await world.careTeam('Remote join');
    const threadId = await world.thread(pat, [asRecipient(team)], 'first');
    const newbie = await world.professional('Remote join Newbie');
    const doctorOnB = dashboard(doctor, b, own);
    const newbieOnB = dashboard(newbie, b, own);
    const newbieMessagesOnB = messages(newbie, b, own);
    await untilSubscribed(b, 3);
    await linked(world, pat, threadId, doctorOnB);

    await world.addMember(team, newbie);
    await until(() => heard(newbieOnB, threadId, 'ADDED_TO_THREAD'), 5000);
    await world.send(pat, threadId, 'welcome aboard');
    await until(() => heard(newbieOnB, threadId, 'MESSAGE_ADDED: welcome aboard'), 5000);
    expect(story(newbieOnB, threadId)).toEqual(['ADDED_TO_THREAD', 'MESSAGE_ADDED: welcome aboard']);
    await newbieMessagesOnB.waitFor(1, 5000);
    expect(bodies(newbieMessagesOnB, threadId)).toEqual(['welcome aboard']);
  });

  test('a member removed through instance A stops receiving on instance B at once', async () => {
    if (instances.redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const { a, b } = instances;
    const world = await World.create(a);
    const { a: doctor, b: leaver, team, pat } = await world.careTeam('Remote removal');
    await world.setCoverageMinimum(team, 1);
    const threadId = await world.thread(pat, [asRecipient(team)], 'first');
    const doctorOnB = dashboard(doctor, b, own);
    const leaverOnB = dashboard(leaver, b, own);
    const leaverMessagesOnB = messages(leaver, b, own);
    await untilSubscribed(b, 3);
    await linked(world, pat, threadId, doctorOnB);
    await until(() => leaverMessagesOnB.received.length > 0, 5000);

    await removeMember(world, team, leaver);
    await world.send(pat, threadId, 'right after the removal');
    await until(() => heard(doctorOnB, threadId, 'MESSAGE_ADDED: right after the removal'), 5000);
    await until(() => heard(leaverOnB, threadId, 'REMOVED_FROM_THREAD'), 5000);
    await settle(leaverOnB.client);
    await settle(leaverMessagesOnB.client);
    expect(story(leaverOnB, threadId).filter((s) => !s.startsWith('MESSAGE_ADDED: probe'))).toEqual(['REMOVED_FROM_THREAD']);
    expect(bodies(leaverMessagesOnB, threadId).filter((body) => !body.startsWith('probe'))).toEqual([]);
    // Two topics, which may cross on their way between instances: the message carries its own recipients.
    expect(story(doctorOnB, threadId).filter((s) => !s.startsWith('MESSAGE_ADDED: probe')).sort()).toEqual(['MESSAGE_ADDED: right after the removal', 'PARTICIPANTS_CHANGED']);
  });
});
