import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import { failure, gql } from './support/graphql';
import { listen, settle, untilDashboards, type Feed } from './support/live';
import { asRecipient, useLiveWorld, type Person, type TeamRef } from './support/world';
import {
  AssignThreadDocument,
  ClaimThreadDocument,
  MarkThreadDoneDocument,
  ReopenThreadDocument,
  UnassignThreadDocument,
  type InboxItemFragment,
} from '../web/gql/graphql';

// The team inbox (issue 7), through the public API of a real server: members
// of an auto-CC team list the team's threads they are in, by how long the
// patient has been waiting; they claim, assign, unassign, mark done and
// reopen them; every change is audited against the individual and pushed to
// the team's members in the thread on their dashboard feed. The patient never
// learns who is assigned. (Escalation has its own tests.)

const env = useLiveWorld();
const { clients } = env;

const ITEM = 'threadId teamId status waitingSince assignedAt doneAt assignee { id } doneBy { id }';

interface Item {
  threadId: string;
  teamId: string;
  status: 'OPEN' | 'DONE';
  waitingSince: string | null;
  assignedAt: string | null;
  doneAt: string | null;
  assignee: { id: string } | null;
  doneBy: { id: string } | null;
}

type Listed = Item & { thread: { id: string; subject: string; lastMessage: { createdAt: string } } };

const INBOX = `query($team: ID!, $status: InboxStatus, $assignee: InboxAssignee, $first: Int, $after: String) {
  teamInbox(teamId: $team, status: $status, assignee: $assignee, first: $first, after: $after) {
    edges { cursor node { ${ITEM} thread { id subject lastMessage { createdAt } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface InboxOptions {
  status?: 'OPEN' | 'DONE';
  assignee?: 'ANYONE' | 'ME' | 'UNASSIGNED';
  first?: number;
  after?: string;
}

/** One page of the team's inbox as `who` sees it. */
async function inboxPage(who: Person, team: TeamRef, options: InboxOptions = {}) {
  const { teamInbox } = await env.world.as(who, INBOX, { team: team.id, ...options });
  return teamInbox as { edges: { cursor: string; node: Listed }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** The subjects of the threads on the first page of `who`'s view of the inbox, in order. */
async function subjects(who: Person, team: TeamRef, options: InboxOptions = {}): Promise<string[]> {
  return (await inboxPage(who, team, options)).edges.map((e) => e.node.thread.subject);
}

/** Every item of the inbox, page after page of `first`; also returns how many pages it took. */
async function allPages(who: Person, team: TeamRef, first: number, options: InboxOptions = {}) {
  const items: Listed[] = [];
  let after: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await inboxPage(who, team, { ...options, first, after });
    items.push(...page.edges.map((e) => e.node));
    expect(page.edges.length).toBeLessThanOrEqual(first);
    if (!page.pageInfo.hasNextPage) return { items, pages };
    expect(page.edges).toHaveLength(first);
    after = page.pageInfo.endCursor!;
    if (pages > 100) throw new Error('the inbox never ends');
  }
}

type Change = 'claimThread' | 'unassignThread' | 'markThreadDone' | 'reopenThread';
const CHANGES: Change[] = ['claimThread', 'unassignThread', 'markThreadDone', 'reopenThread'];

const CHANGE: Record<Change, TypedDocumentNode<Partial<Record<Change, InboxItemFragment>>, { threadId: string; teamId: string }>> = {
  claimThread: ClaimThreadDocument,
  unassignThread: UnassignThreadDocument,
  markThreadDone: MarkThreadDoneDocument,
  reopenThread: ReopenThreadDocument,
};

/** The fields of ITEM, of an item as the dashboard's operations select it. */
const asItem = ({ threadId, teamId, status, waitingSince, assignedAt, doneAt, assignee, doneBy }: InboxItemFragment): Item => ({
  threadId,
  teamId,
  status,
  waitingSince,
  assignedAt,
  doneAt,
  assignee: assignee && { id: assignee.id },
  doneBy: doneBy && { id: doneBy.id },
});

async function change(who: Person, field: Change, threadId: string, team: TeamRef): Promise<Item> {
  const changed: Partial<Record<Change, InboxItemFragment>> = await env.world.as(who, CHANGE[field], { threadId, teamId: team.id });
  return asItem(changed[field]!);
}
const claim = (who: Person, threadId: string, team: TeamRef) => change(who, 'claimThread', threadId, team);
const unassign = (who: Person, threadId: string, team: TeamRef) => change(who, 'unassignThread', threadId, team);
const markDone = (who: Person, threadId: string, team: TeamRef) => change(who, 'markThreadDone', threadId, team);
const reopen = (who: Person, threadId: string, team: TeamRef) => change(who, 'reopenThread', threadId, team);
async function assign(who: Person, threadId: string, team: TeamRef, to: Person | string): Promise<Item> {
  return asItem((await env.world.as(who, AssignThreadDocument, { threadId, teamId: team.id, userId: typeof to === 'string' ? to : to.id })).assignThread);
}

/** The single error of a change refused to the holder of `token` (userId is for assignThread alone). */
function refused(field: Change | 'assignThread', { threadId, teamId, userId }: { threadId: string; teamId: string; userId: string }, token: string) {
  return field === 'assignThread'
    ? failure(env.server.url, AssignThreadDocument, { threadId, teamId, userId }, token)
    : failure(env.server.url, CHANGE[field], { threadId, teamId }, token);
}

/** The single error of a change refused to `who`. */
const refusal = (who: Person, field: Change | 'assignThread', threadId: string, team: TeamRef, to?: Person) =>
  refused(field, { threadId, teamId: team.id, userId: to?.id ?? who.id }, who.token);

/** Thread.inbox as `who` sees it. */
async function inboxOf(who: Person, threadId: string): Promise<Item[]> {
  return (await env.world.as(who, `query($t: ID!) { thread(id: $t) { inbox { ${ITEM} } } }`, { t: threadId })).thread.inbox;
}

/** The thread in the team's inbox, read back by `who` (a member in the thread). */
async function itemOf(who: Person, threadId: string, team: TeamRef): Promise<Item> {
  const item = (await inboxOf(who, threadId)).find((i) => i.teamId === team.id);
  if (!item) throw new Error(`the thread is not in the inbox of ${team.name} for ${who.name}`);
  return item;
}

const INBOX_ACTIONS = ['THREAD_ASSIGNED', 'THREAD_UNASSIGNED', 'THREAD_MARKED_DONE', 'THREAD_REOPENED'];

interface TrailEvent {
  action: string;
  outcome: string;
  reason: string | null;
  actor: { id: string };
  subject: { id: string } | null;
  team: { id: string } | null;
}

/** The thread's inbox events (claims, assignments, done, reopened) in the trail as `who` reads it (the admin by default). */
async function inboxTrail(threadId: string, who: Person = env.world.admin): Promise<TrailEvent[]> {
  const { auditTrail } = await env.world.as(
    who,
    `query($t: ID!) { auditTrail(threadId: $t) { action outcome reason actor { id } subject { id } team { id } } }`,
    { t: threadId },
  );
  return (auditTrail as TrailEvent[]).filter((e) => INBOX_ACTIONS.includes(e.action));
}

/** Compact: action, actor, subject and team of each successful event. */
const brief = (events: TrailEvent[]) =>
  events.filter((e) => e.outcome === 'SUCCESS').map((e) => ({ action: e.action, actor: e.actor.id, subject: e.subject?.id ?? null, team: e.team?.id ?? null }));

/** A patient's thread to the auto-CC care team of `label` (two contactable members a and b, a non-contactable one). */
async function patientThread(label: string, body = 'my sugar is high') {
  const people = await env.world.careTeam(label);
  const threadId = await env.world.thread(people.pat, [asRecipient(people.team)], body, `${label} thread`);
  return { ...people, threadId };
}

/** Lets the clock move on, so that times compare strictly. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

// ---------------------------------------------------------------------------

describe('teamInbox: the team threads its members are in', () => {
  test('a member sees the team threads they are in, with status, assignee and waiting time; a thread they left is not listed', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Listing');
    const first = await env.world.thread(pat, [asRecipient(team)], 'my feet', 'Feet');
    const second = await env.world.thread(pat, [asRecipient(team)], 'my eyes', 'Eyes');
    await claim(a, first, team);
    await env.world.leave(b, second);

    const forA = (await inboxPage(a, team)).edges.map((e) => e.node);
    expect(forA.map((i) => i.thread.subject).sort()).toEqual(['Eyes', 'Feet']);
    const feet = forA.find((i) => i.threadId === first)!;
    expect(feet).toMatchObject({ teamId: team.id, status: 'OPEN', assignee: { id: a.id }, doneAt: null, doneBy: null });
    expect(feet.waitingSince).toEqual(expect.any(String));
    expect(feet.assignedAt).toEqual(expect.any(String));
    expect(forA.find((i) => i.threadId === second)).toMatchObject({ assignee: null, assignedAt: null });

    expect(await subjects(b, team)).toEqual(['Feet']);
  });

  test('only members may open it: FORBIDDEN for a professional outside the team, an admin who is not a member and the patient of its threads; an unknown team is NOT_FOUND', async () => {
    const { team, pat, threadId } = await patientThread('Members only');
    const outsider = await env.world.professional('Members only Outsider');
    const otherAdmin = await env.world.professional('Members only Admin', { isAdmin: true });
    const gp = await env.world.professional('Members only GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(pat, threadId, [gp]);

    for (const who of [outsider, env.world.admin, otherAdmin, pat, gp]) {
      const error = await failure(env.server.url, INBOX, { team: team.id }, who.token);
      expect({ who: who.name, code: error.extensions?.code }).toEqual({ who: who.name, code: 'FORBIDDEN' });
    }
    for (const teamId of ['00000000-0000-4000-8000-000000000000', 'not an id']) {
      const error = await failure(env.server.url, INBOX, { team: teamId }, outsider.token);
      expect(error.extensions?.code).toBe('NOT_FOUND');
    }
    const anonymous = await gql(env.server.url, INBOX, { team: team.id });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  test('the longest-waiting patient comes first; threads where nobody waits follow, the latest activity first', async () => {
    const { a, team, pat } = await env.world.careTeam('Order');
    const made: Record<string, string> = {};
    for (const subject of ['W1', 'A1', 'W2', 'A2', 'W3', 'A3']) {
      made[subject] = await env.world.thread(pat, [asRecipient(team)], `about ${subject}`, subject);
      await tick();
    }
    // Answered threads stop waiting; the order of the answers is their order of activity.
    for (const subject of ['A2', 'A1', 'A3']) {
      await env.world.send(a, made[subject], 'answered');
      await tick();
    }
    // A patient writing again into a waiting thread does not move it: it waits since its first unanswered message.
    await env.world.send(pat, made.W1, 'still waiting');
    await tick();
    // A thread answered and then written to again waits since the new message: last among the waiting.
    const again = await env.world.thread(pat, [asRecipient(team)], 'first', 'W4');
    await env.world.send(a, again, 'answered');
    await tick();
    await env.world.send(pat, again, 'one more thing');

    const page = (await inboxPage(a, team)).edges.map((e) => e.node);
    expect(page.map((i) => i.thread.subject)).toEqual(['W1', 'W2', 'W3', 'W4', 'A3', 'A1', 'A2']);
    // And in terms of the values read back: waiting ascending, then activity descending.
    const waiting = page.filter((i) => i.waitingSince);
    expect(waiting.map((i) => i.waitingSince)).toEqual(waiting.map((i) => i.waitingSince).sort());
    const answered = page.filter((i) => !i.waitingSince);
    expect(answered.map((i) => i.thread.lastMessage.createdAt)).toEqual(answered.map((i) => i.thread.lastMessage.createdAt).sort().reverse());
    expect(page.slice(0, 4).every((i) => i.waitingSince) && page.slice(4).every((i) => !i.waitingSince)).toBe(true);
  });

  test('pages follow each other without leaving a thread out or listing one twice, across the waiting and the answered', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Pages');
    const ids: string[] = [];
    // Created in quick succession, so some share a time and the id breaks the tie.
    for (let i = 0; i < 11; i++) {
      const id = await env.world.thread(pat, [asRecipient(team)], `message ${i}`, `Page thread ${i}`);
      ids.push(id);
      if (i % 3 === 0) await env.world.send(b, id, 'answered');
    }
    const done = await env.world.thread(pat, [asRecipient(team)], 'done with', 'Done one');
    await markDone(a, done, team);

    const whole = (await inboxPage(a, team, { first: 100 })).edges.map((e) => e.node.threadId);
    expect(whole).toHaveLength(ids.length);
    expect(new Set(whole)).toEqual(new Set(ids));
    for (const first of [1, 2, 3, 4, 5, 10, 11, 12]) {
      const { items, pages } = await allPages(a, team, first);
      expect({ first, ids: items.map((i) => i.threadId) }).toEqual({ first, ids: whole });
      expect(pages).toBe(Math.max(1, Math.ceil(ids.length / first)));
    }
    // Filters page the same way.
    for (const id of ids.slice(0, 5)) await claim(a, id, team);
    const mine = (await inboxPage(a, team, { assignee: 'ME', first: 100 })).edges.map((e) => e.node.threadId);
    expect((await allPages(a, team, 2, { assignee: 'ME' })).items.map((i) => i.threadId)).toEqual(mine);
    expect(new Set(mine)).toEqual(new Set(ids.slice(0, 5)));
    const unassigned = (await allPages(a, team, 3, { assignee: 'UNASSIGNED' })).items.map((i) => i.threadId);
    expect(new Set(unassigned)).toEqual(new Set(ids.slice(5)));
    expect(unassigned).toEqual(whole.filter((id) => !mine.includes(id)));
  });

  test('filters: status OPEN by default or DONE; assignee ANYONE by default, ME or UNASSIGNED', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Filters');
    const thread = (subject: string) => env.world.thread(pat, [asRecipient(team)], 'hello', subject);
    const mineOpen = await thread('Mine open');
    const hersOpen = await thread('Hers open');
    await thread('Nobody open');
    const mineDone = await thread('Mine done');
    const nobodyDone = await thread('Nobody done');
    await claim(a, mineOpen, team);
    await claim(b, hersOpen, team);
    await claim(a, mineDone, team);
    await markDone(b, mineDone, team);
    await markDone(b, nobodyDone, team);

    const sorted = async (options: InboxOptions) => (await subjects(a, team, options)).sort();
    expect(await sorted({})).toEqual(['Hers open', 'Mine open', 'Nobody open']);
    expect(await sorted({ status: 'OPEN', assignee: 'ANYONE' })).toEqual(['Hers open', 'Mine open', 'Nobody open']);
    expect(await sorted({ assignee: 'ME' })).toEqual(['Mine open']);
    expect(await sorted({ assignee: 'UNASSIGNED' })).toEqual(['Nobody open']);
    expect(await sorted({ status: 'DONE' })).toEqual(['Mine done', 'Nobody done']);
    expect(await sorted({ status: 'DONE', assignee: 'ME' })).toEqual(['Mine done']);
    expect(await sorted({ status: 'DONE', assignee: 'UNASSIGNED' })).toEqual(['Nobody done']);
    // ME is the caller: for b it is their own.
    expect((await subjects(b, team, { assignee: 'ME' })).sort()).toEqual(['Hers open']);
  });

  test('a page size outside 1..100, and a cursor that is not from this list, are BAD_USER_INPUT', async () => {
    const { a, team } = await patientThread('Bad pages');
    for (const first of [0, -1, 101]) {
      expect((await failure(env.server.url, INBOX, { team: team.id, first }, a.token)).extensions?.code).toBe('BAD_USER_INPUT');
    }
    const bad = [
      'nonsense',
      Buffer.from(JSON.stringify(['', 'not a time', 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify(['not a time', new Date().toISOString(), 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify([new Date().toISOString(), 'x'])).toString('base64url'),
    ];
    for (const after of bad) {
      expect((await failure(env.server.url, INBOX, { team: team.id, after }, a.token)).extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  test('a forged cursor with a time outside the years 1 to 9999 (which a database may not store) is BAD_USER_INPUT, never a server error; the years at either end are a cursor like any other', async () => {
    const { a, team, threadId } = await patientThread('Far times');
    const answered = await env.world.thread(a, [asRecipient(team)], 'no patient waits here', 'Far times answered');
    const cursor = (keys: string[]) => Buffer.from(JSON.stringify(keys)).toString('base64url');
    const now = new Date().toISOString();
    for (const far of ['-100000-01-01T00:00:00.000Z', '0000-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z']) {
      for (const after of [cursor([far, now, threadId]), cursor(['', far, threadId])]) {
        const error = await failure(env.server.url, INBOX, { team: team.id, after }, a.token);
        expect({ far, after, code: error.extensions?.code }).toEqual({ far, after, code: 'BAD_USER_INPUT' });
      }
    }
    const listed = async (after: string) => (await inboxPage(a, team, { after })).edges.map((e) => e.node.threadId);
    // After a wait that began in the year 1 come every waiting thread and then the answered ones; after activity in 9999, every answered one.
    expect(await listed(cursor(['0001-01-01T00:00:00.000Z', now, threadId]))).toEqual([threadId, answered]);
    expect(await listed(cursor(['', '9999-12-31T23:59:59.999Z', threadId]))).toEqual([answered]);
  });
});

describe('waitingSince: the oldest patient message not yet followed by a reply from a professional', () => {
  const firstMessageTime = async (who: Person, threadId: string, index: number) =>
    (await env.world.as(who, `query($t: ID!) { thread(id: $t) { messages(first: 100) { edges { node { createdAt } } } } }`, { t: threadId })).thread.messages
      .edges[index].node.createdAt as string;

  test('it starts with the patient message, stays through a second one, ends with any professional reply (in the team or not) and starts again with the next', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Waiting');
    const gp = await env.world.professional('Waiting GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(pat, threadId, [gp]);
    const opened = await firstMessageTime(a, threadId, 0);
    expect((await itemOf(a, threadId, team)).waitingSince).toBe(opened);

    await tick();
    await env.world.send(pat, threadId, 'and another thing');
    expect((await itemOf(b, threadId, team)).waitingSince).toBe(opened);

    // A professional who is not in the team answers: nobody waits any more.
    await env.world.send(gp, threadId, 'I will look into it');
    expect((await itemOf(a, threadId, team)).waitingSince).toBeNull();
    // Another professional's message changes nothing.
    await env.world.send(b, threadId, 'noted');
    expect((await itemOf(a, threadId, team)).waitingSince).toBeNull();

    await tick();
    await env.world.send(pat, threadId, 'thank you, one more question');
    const again = await firstMessageTime(a, threadId, 4);
    expect((await itemOf(a, threadId, team)).waitingSince).toBe(again);
    await env.world.send(a, threadId, 'answered');
    expect((await itemOf(a, threadId, team)).waitingSince).toBeNull();
  });

  test('a thread a member starts with the patient waits for nobody until the patient writes', async () => {
    const { a, team, pat } = await env.world.careTeam('Staff started');
    const threadId = await env.world.thread(a, [asRecipient(team), asRecipient(pat)], 'your results are in', 'Results');
    expect((await itemOf(a, threadId, team)).waitingSince).toBeNull();
    await env.world.send(pat, threadId, 'what do they say?');
    expect((await itemOf(a, threadId, team)).waitingSince).toBe(await firstMessageTime(a, threadId, 1));
  });
});

describe('claim, assign and unassign', () => {
  test('a member claims an unassigned thread; claiming it again changes nothing; another member is refused, naming the holder, and nothing changes', async () => {
    const { a, b, team, threadId } = await patientThread('Claim');
    const claimed = await claim(a, threadId, team);
    expect(claimed).toMatchObject({ threadId, teamId: team.id, status: 'OPEN', assignee: { id: a.id } });
    expect(claimed.assignedAt).toEqual(expect.any(String));

    expect(await claim(a, threadId, team)).toEqual(claimed);

    const error = await refusal(b, 'claimThread', threadId, team);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain(a.name);
    expect(await itemOf(b, threadId, team)).toEqual(claimed);
    expect(brief(await inboxTrail(threadId))).toEqual([{ action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id }]);
  });

  test('two members claiming at once: exactly one becomes the assignee, the other is refused naming them', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Race');
    const threads = await Promise.all([1, 2, 3, 4, 5].map((i) => env.world.thread(pat, [asRecipient(team)], `race ${i}`, `Race ${i}`)));
    await Promise.all(
      threads.map(async (threadId) => {
        const results = await Promise.all([a, b].map((who) => gql(env.server.url, ClaimThreadDocument, { threadId, teamId: team.id }, who.token)));
        const won = results.filter((r) => !r.errors && r.data?.claimThread);
        const lost = results.filter((r) => r.errors);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const winner = won[0].data!.claimThread.assignee!.id === a.id ? a : b;
        const loser = winner === a ? b : a;
        expect(lost[0].errors!.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        expect(lost[0].errors![0].message).toContain(winner.name);
        expect((await itemOf(loser, threadId, team)).assignee).toEqual({ id: winner.id });
        expect(brief(await inboxTrail(threadId))).toEqual([{ action: 'THREAD_ASSIGNED', actor: winner.id, subject: winner.id, team: team.id }]);
      }),
    );
  });

  test('assignThread hands the thread to a contactable member in the thread, also over a claim; assigning to the assignee changes nothing', async () => {
    const { a, b, team, threadId } = await patientThread('Assign');
    await claim(a, threadId, team);
    const assigned = await assign(a, threadId, team, b);
    expect(assigned).toMatchObject({ assignee: { id: b.id }, status: 'OPEN' });
    expect(await assign(b, threadId, team, b)).toEqual(assigned);
    // Any member may reassign, including to themself.
    expect((await assign(a, threadId, team, a)).assignee).toEqual({ id: a.id });
    expect(brief(await inboxTrail(threadId))).toEqual([
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: b.id, team: team.id },
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
    ]);
  });

  test('assignThread is refused with BAD_USER_INPUT for a non-member, a non-contactable or disabled member, a member not in the thread and an unknown user; nothing changes', async () => {
    const { a, b, quiet, team, pat, threadId } = await patientThread('Assign refused');
    const gp = await env.world.professional('Assign refused GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(pat, threadId, [gp]);
    // Added to the team, then to the thread through the team; disabled afterwards.
    const disabled = await env.world.professional('Assign refused Disabled');
    await env.world.addMember(team, disabled);
    await env.world.addParticipants(a, threadId, [team]);
    const late = await env.world.professional('Assign refused Late member');
    // Joining the team joined the open thread; they leave it.
    await env.world.addMember(team, late);
    await env.world.leave(late, threadId);
    await env.world.as(env.world.admin, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: disabled.id });
    await claim(b, threadId, team);
    const before = await itemOf(a, threadId, team);

    const cases: [string, Person | string, string][] = [
      ['a participant outside the team', gp, 'not a member'],
      ['the patient', pat, 'not a member'],
      ['a member who is not contactable (and so never in the thread)', quiet, 'not contactable'],
      ['a disabled member in the thread', disabled, 'not contactable'],
      ['a member who is not in the thread', late, 'not a participant'],
      ['an unknown user', '00000000-0000-4000-8000-000000000000', 'Unknown user'],
      ['text that is no id', 'nobody', 'Unknown user'],
    ];
    for (const [who, target, reason] of cases) {
      const result = await gql(env.server.url, AssignThreadDocument, { threadId, teamId: team.id, userId: typeof target === 'string' ? target : target.id }, a.token);
      expect({ who, codes: result.errors?.map((e) => e.extensions?.code) }).toEqual({ who, codes: ['BAD_USER_INPUT'] });
      expect({ who, message: result.errors![0].message }).toEqual({ who, message: expect.stringContaining(reason) });
    }
    expect(await itemOf(a, threadId, team)).toEqual(before);
    expect(brief(await inboxTrail(threadId))).toEqual([{ action: 'THREAD_ASSIGNED', actor: b.id, subject: b.id, team: team.id }]);
  });

  test('a member who is no longer contactable may still take a thread themself, but nobody else may hand it to them', async () => {
    const { a, b, team, threadId } = await patientThread('Self');
    await env.world.setCoverageMinimum(team, 1);
    await env.world.setContactable(a, false);
    expect((await refusal(b, 'assignThread', threadId, team, a)).extensions?.code).toBe('BAD_USER_INPUT');
    expect((await itemOf(b, threadId, team)).assignee).toBeNull();
    expect((await assign(a, threadId, team, a)).assignee).toEqual({ id: a.id });
    await unassign(a, threadId, team);
    expect((await claim(a, threadId, team)).assignee).toEqual({ id: a.id });
  });

  test('unassignThread clears the assignee, whoever had it; on an unassigned thread it changes nothing', async () => {
    const { a, b, team, threadId } = await patientThread('Unassign');
    await claim(a, threadId, team);
    const cleared = await unassign(b, threadId, team);
    expect(cleared).toMatchObject({ assignee: null, assignedAt: null, status: 'OPEN' });
    expect(await unassign(a, threadId, team)).toEqual(cleared);
    expect(brief(await inboxTrail(threadId))).toEqual([
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_UNASSIGNED', actor: b.id, subject: a.id, team: team.id },
    ]);
    // Now b may claim it.
    expect((await claim(b, threadId, team)).assignee).toEqual({ id: b.id });
  });
});

describe('who may change a thread in a team inbox', () => {
  test('NOT_FOUND for anyone not in the thread (recorded as DENIED), FORBIDDEN for a participant outside the team, BAD_USER_INPUT for a team the thread is not addressed to', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Who');
    const gp = await env.world.professional('Who GP');
    await env.world.share(pat, gp);
    await env.world.addParticipants(pat, threadId, [gp]);
    const outsider = await env.world.professional('Who Outsider');
    await env.world.leave(b, threadId);
    // A team a is in, that this thread was not sent to.
    const otherTeam = await env.world.team('Who Other Team', { autoCc: true, members: [a, outsider] });
    const before = await itemOf(a, threadId, team);

    for (const field of [...CHANGES, 'assignThread'] as const) {
      const cases: [string, Person, TeamRef, string][] = [
        ['a member who left the thread', b, team, 'NOT_FOUND'],
        ['a professional outside the thread', outsider, team, 'NOT_FOUND'],
        ['the admin', env.world.admin, team, 'NOT_FOUND'],
        ['the patient', pat, team, 'FORBIDDEN'],
        ['a participant outside the team', gp, team, 'FORBIDDEN'],
        ['a member, for a team the thread is not addressed to', a, otherTeam, 'BAD_USER_INPUT'],
      ];
      for (const [who, person, target, code] of cases) {
        const error = await refused(field, { threadId, teamId: target.id, userId: a.id }, person.token);
        expect({ field, who, code: error.extensions?.code }).toEqual({ field, who, code });
      }
      const unknownTeam = await refused(field, { threadId, teamId: '00000000-0000-4000-8000-000000000000', userId: a.id }, a.token);
      expect({ field, code: unknownTeam.extensions?.code }).toEqual({ field, code: 'NOT_FOUND' });
      const unknownThread = await refused(field, { threadId: '00000000-0000-4000-8000-000000000000', teamId: team.id, userId: a.id }, a.token);
      expect({ field, code: unknownThread.extensions?.code }).toEqual({ field, code: 'NOT_FOUND' });
    }
    expect(await itemOf(a, threadId, team)).toEqual(before);

    const trail = await inboxTrail(threadId);
    expect(brief(trail)).toEqual([]);
    const denied = trail.filter((e) => e.outcome === 'DENIED').map((e) => ({ action: e.action, actor: e.actor.id, code: e.reason?.split(':')[0] }));
    for (const [person, code] of [[b, 'NOT_FOUND'], [outsider, 'NOT_FOUND'], [env.world.admin, 'NOT_FOUND'], [pat, 'FORBIDDEN'], [gp, 'FORBIDDEN']] as const) {
      for (const action of INBOX_ACTIONS) {
        expect(denied).toContainEqual({ action, actor: person.id, code });
      }
    }
  });

  test('FORBIDDEN names no team: whoever asks about a team they are not in, with any team id, learns nothing of it', async () => {
    const { team, pat, threadId } = await patientThread('Probe');
    const secret = await env.world.team('Probe Sexual Health Clinic', { autoCc: false });
    const outsider = await env.world.professional('Probe Outsider');
    const refusals = [
      await failure(env.server.url, INBOX, { team: secret.id }, pat.token),
      await failure(env.server.url, INBOX, { team: secret.id }, outsider.token),
      await failure(env.server.url, INBOX, { team: team.id }, outsider.token),
      await refusal(pat, 'claimThread', threadId, secret),
      await refusal(pat, 'assignThread', threadId, secret),
    ];
    for (const error of refusals) {
      expect(error.extensions?.code).toBe('FORBIDDEN');
      expect(error.message).not.toMatch(/Probe/);
    }
  });
});

describe('done and reopened', () => {
  test('markThreadDone records who and when and keeps the assignee; reopenThread clears that; each changes nothing when it is already so', async () => {
    const { a, b, team, threadId } = await patientThread('Done');
    await claim(a, threadId, team);
    const done = await markDone(b, threadId, team);
    expect(done).toMatchObject({ status: 'DONE', assignee: { id: a.id }, doneBy: { id: b.id } });
    expect(done.doneAt).toEqual(expect.any(String));
    expect(await markDone(a, threadId, team)).toEqual(done);
    expect(await subjects(a, team)).toEqual([]);
    expect(await subjects(a, team, { status: 'DONE' })).toEqual(['Done thread']);

    const reopened = await reopen(a, threadId, team);
    expect(reopened).toMatchObject({ status: 'OPEN', assignee: { id: a.id }, doneAt: null, doneBy: null });
    expect(await reopen(b, threadId, team)).toEqual(reopened);
    expect(await subjects(a, team)).toEqual(['Done thread']);

    expect(brief(await inboxTrail(threadId))).toEqual([
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_MARKED_DONE', actor: b.id, subject: null, team: team.id },
      { action: 'THREAD_REOPENED', actor: a.id, subject: null, team: team.id },
    ]);
  });

  test("a patient's new message reopens a done thread and clears its assignee, audited as THREAD_REOPENED by the patient; a professional's message does not reopen it", async () => {
    const { a, b, team, pat, threadId } = await patientThread('Reopen');
    await claim(a, threadId, team);
    await env.world.send(a, threadId, 'all sorted');
    await markDone(a, threadId, team);

    await env.world.send(b, threadId, 'a note for the record');
    expect(await itemOf(a, threadId, team)).toMatchObject({ status: 'DONE', assignee: { id: a.id }, doneBy: { id: a.id } });

    await env.world.send(pat, threadId, 'actually, one more thing');
    expect(await itemOf(a, threadId, team)).toMatchObject({ status: 'OPEN', assignee: null, assignedAt: null, doneAt: null, doneBy: null });
    expect(await subjects(b, team, { assignee: 'UNASSIGNED' })).toEqual(['Reopen thread']);
    expect(brief(await inboxTrail(threadId))).toEqual([
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_MARKED_DONE', actor: a.id, subject: null, team: team.id },
      { action: 'THREAD_REOPENED', actor: pat.id, subject: a.id, team: team.id },
    ]);

    // On an open thread, the patient's next message changes nothing in the inbox.
    await env.world.send(pat, threadId, 'and another');
    expect((await inboxTrail(threadId)).length).toBe(3);
  });
});

describe('the assignee leaving', () => {
  test('the assignee leaving the thread is unassigned, with THREAD_UNASSIGNED by the leaver; another member leaving changes nothing', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Leaving');
    const c = await env.world.professional('Leaving Dr C');
    await env.world.addMember(team, c);
    await env.world.addParticipants(pat, threadId, [team]);
    await claim(a, threadId, team);

    await env.world.leave(c, threadId);
    expect((await itemOf(b, threadId, team)).assignee).toEqual({ id: a.id });

    await env.world.leave(a, threadId);
    expect(await itemOf(b, threadId, team)).toMatchObject({ assignee: null, assignedAt: null, status: 'OPEN' });
    expect(brief(await inboxTrail(threadId))).toEqual([
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_UNASSIGNED', actor: a.id, subject: a.id, team: team.id },
    ]);
  });

  test("the assignee removed from the team is unassigned in the team's threads (THREAD_UNASSIGNED by the admin), not in another team's", async () => {
    const { a, b, team, pat, threadId } = await patientThread('Removed');
    const other = await env.world.team('Removed Other Team', { autoCc: true, members: [a] });
    await env.world.share(pat, other);
    const second = await env.world.thread(pat, [asRecipient(team), asRecipient(other)], 'to both', 'Removed second');
    await claim(a, threadId, team);
    await claim(a, second, team);
    await claim(a, second, other);
    await env.world.setCoverageMinimum(team, 1);

    await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: a.id });

    expect((await itemOf(b, threadId, team)).assignee).toBeNull();
    expect((await itemOf(b, second, team)).assignee).toBeNull();
    expect((await itemOf(a, second, other)).assignee).toEqual({ id: a.id });
    // a is out of the thread they were in only through the team; in the one their other team has, they see only its inbox.
    expect((await failure(env.server.url, `query($t: ID!) { thread(id: $t) { id } }`, { t: threadId }, a.token)).extensions?.code).toBe('NOT_FOUND');
    expect((await inboxOf(a, second)).map((i) => i.teamId)).toEqual([other.id]);
    expect((await failure(env.server.url, INBOX, { team: team.id }, a.token)).extensions?.code).toBe('FORBIDDEN');
    const unassigned = { action: 'THREAD_UNASSIGNED', actor: env.world.admin.id, subject: a.id, team: team.id };
    expect(brief(await inboxTrail(threadId)).at(-1)).toEqual(unassigned);
    expect(brief(await inboxTrail(second)).filter((e) => e.action === 'THREAD_UNASSIGNED')).toEqual([unassigned]);
  });
});

describe('Thread.inbox', () => {
  test("it lists the thread in the inboxes of the caller's teams only; empty for the patient, a participant in no such team and a member of only the other team", async () => {
    const { a, b, team, pat } = await env.world.careTeam('Thread inbox');
    const pharmacist = await env.world.professional('Thread inbox Pharmacist');
    const pharmacy = await env.world.team('Thread inbox Pharmacy', { autoCc: true, members: [pharmacist, b] });
    const gp = await env.world.professional('Thread inbox GP');
    await env.world.share(pat, pharmacy);
    await env.world.share(pat, gp);
    const threadId = await env.world.thread(pat, [asRecipient(team), asRecipient(pharmacy), asRecipient(gp)], 'two teams');
    await claim(a, threadId, team);

    expect((await inboxOf(a, threadId)).map((i) => [i.teamId, i.assignee?.id ?? null])).toEqual([[team.id, a.id]]);
    expect((await inboxOf(b, threadId)).map((i) => i.teamId).sort()).toEqual([team.id, pharmacy.id].sort());
    expect((await inboxOf(pharmacist, threadId)).map((i) => [i.teamId, i.assignee])).toEqual([[pharmacy.id, null]]);
    expect(await inboxOf(gp, threadId)).toEqual([]);
    expect(await inboxOf(pat, threadId)).toEqual([]);
    // The rest see no thread at all.
    const outsider = await env.world.professional('Thread inbox Outsider');
    expect((await failure(env.server.url, `query($t: ID!) { thread(id: $t) { inbox { teamId } } }`, { t: threadId }, outsider.token)).extensions?.code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('the audit trail of the inbox', () => {
  test("every change is an audit event naming the individual, with the team, and the assignee as subject; the admin finds them with auditEvents", async () => {
    const { a, b, team, pat, threadId } = await patientThread('Audited');
    await claim(a, threadId, team);
    await assign(a, threadId, team, b);
    await unassign(b, threadId, team);
    await claim(b, threadId, team);
    await markDone(b, threadId, team);
    await reopen(a, threadId, team);
    await markDone(a, threadId, team);
    await env.world.send(pat, threadId, 'hello again');

    const expected = [
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: a.id, team: team.id },
      { action: 'THREAD_ASSIGNED', actor: a.id, subject: b.id, team: team.id },
      { action: 'THREAD_UNASSIGNED', actor: b.id, subject: b.id, team: team.id },
      { action: 'THREAD_ASSIGNED', actor: b.id, subject: b.id, team: team.id },
      { action: 'THREAD_MARKED_DONE', actor: b.id, subject: null, team: team.id },
      { action: 'THREAD_REOPENED', actor: a.id, subject: null, team: team.id },
      { action: 'THREAD_MARKED_DONE', actor: a.id, subject: null, team: team.id },
      { action: 'THREAD_REOPENED', actor: pat.id, subject: b.id, team: team.id },
    ];
    // As a member of the team reads the trail, and as the admin does.
    expect(brief(await inboxTrail(threadId, a))).toEqual(expected);
    expect(brief(await inboxTrail(threadId))).toEqual(expected);

    const { auditEvents } = await env.world.as(
      env.world.admin,
      `query($t: ID!) { auditEvents(filter: { threadId: $t, action: "THREAD_ASSIGNED" }, first: 100) { edges { node { actor { id } subject { id } team { id } actorRole } } } }`,
      { t: threadId },
    );
    expect(auditEvents.edges.map((e: any) => e.node)).toEqual(
      expect.arrayContaining([{ actor: { id: a.id }, subject: { id: b.id }, team: { id: team.id }, actorRole: 'PROFESSIONAL' }]),
    );
    expect(auditEvents.edges).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------
// Live: the dashboard feed

const ACTIVITY = `subscription { threadActivity { kind threadId teamId inbox { ${ITEM} } message { body } } }`;

interface Activity {
  kind: string;
  threadId: string;
  teamId: string | null;
  inbox: Item | null;
  message: { body: string } | null;
}

type Dashboard = Feed<{ threadActivity: Activity }> & { client: Client; who: Person };

function dashboard(who: Person): Dashboard {
  return { ...listen<{ threadActivity: Activity }>(env.server.wsUrl, who.token, ACTIVITY, clients), who };
}

const activities = (feed: Dashboard) => feed.received.map((r) => r.threadActivity);
const inboxChanges = (feed: Dashboard) => activities(feed).filter((a) => a.kind === 'INBOX_CHANGED');

/** Checks that nothing more reached these feeds: every delivery in flight lands first. */
async function heardNothingMore(feeds: Dashboard[], counts: number[]) {
  for (const feed of feeds) await settle(feed.client);
  expect(feeds.map((f) => ({ who: f.who.name, activities: activities(f).length, errors: f.errors }))).toEqual(
    feeds.map((f, i) => ({ who: f.who.name, activities: counts[i], errors: [] })),
  );
}

describe('live: INBOX_CHANGED on the dashboard feed', () => {
  test("each change reaches the team's members in the thread with the item as it is now; never the patient, a participant outside the team, a member of another team, a member not in the thread or an outsider", async () => {
    const { a, b, quiet, team, pat } = await env.world.careTeam('Live changes');
    const pharmacist = await env.world.professional('Live changes Pharmacist');
    const pharmacy = await env.world.team('Live changes Pharmacy', { autoCc: true, members: [pharmacist] });
    const gp = await env.world.professional('Live changes GP');
    await env.world.share(pat, pharmacy);
    await env.world.share(pat, gp);
    const threadId = await env.world.thread(pat, [asRecipient(team), asRecipient(pharmacy), asRecipient(gp)], 'hello all');
    const late = await env.world.professional('Live changes Late member');
    // Joining the team joined the open thread; they leave it.
    await env.world.addMember(team, late);
    await env.world.leave(late, threadId);
    const outsider = await env.world.professional('Live changes Outsider');

    const members = [dashboard(a), dashboard(b)];
    const silent = [pat, gp, pharmacist, quiet, late, outsider, env.world.admin].map(dashboard);
    await untilDashboards(env.server, members.length + silent.length);

    const steps: [string, () => Promise<unknown>, Partial<Item>][] = [
      ['a claims', () => claim(a, threadId, team), { assignee: { id: a.id }, status: 'OPEN' }],
      ['a assigns to b', () => assign(a, threadId, team, b), { assignee: { id: b.id }, status: 'OPEN' }],
      ['b marks done', () => markDone(b, threadId, team), { assignee: { id: b.id }, status: 'DONE', doneBy: { id: b.id } }],
      ['a reopens', () => reopen(a, threadId, team), { assignee: { id: b.id }, status: 'OPEN', doneBy: null }],
      ['b unassigns', () => unassign(b, threadId, team), { assignee: null, status: 'OPEN' }],
    ];
    for (const [index, [step, act, item]] of steps.entries()) {
      await act();
      for (const feed of members) {
        await feed.waitFor(index + 1);
        expect({ step, who: feed.who.name, activity: activities(feed)[index] }).toEqual({
          step,
          who: feed.who.name,
          activity: { kind: 'INBOX_CHANGED', threadId, teamId: team.id, message: null, inbox: expect.objectContaining({ threadId, teamId: team.id, ...item }) },
        });
      }
    }
    // A change that changes nothing tells nobody.
    await unassign(a, threadId, team);
    await heardNothingMore([...members, ...silent], [5, 5, ...silent.map(() => 0)]);

    // The other team's change reaches its own member only.
    await claim(pharmacist, threadId, pharmacy);
    await silent[2].waitFor(1);
    expect(activities(silent[2])).toEqual([
      { kind: 'INBOX_CHANGED', threadId, teamId: pharmacy.id, message: null, inbox: expect.objectContaining({ assignee: { id: pharmacist.id } }) },
    ]);
    await heardNothingMore([...members, ...silent], [5, 5, 0, 0, 1, 0, 0, 0, 0]);
  });

  test("a patient's message that reopens a done thread reaches the members as INBOX_CHANGED, unassigned; the patient hears only their message", async () => {
    const { a, b, team, pat, threadId } = await patientThread('Live reopen');
    await claim(a, threadId, team);
    await markDone(a, threadId, team);
    const feeds = { a: dashboard(a), b: dashboard(b), pat: dashboard(pat) };
    await untilDashboards(env.server, 3);

    await env.world.send(pat, threadId, 'it hurts again');
    for (const feed of [feeds.a, feeds.b]) {
      await feed.waitFor(2);
      // Two topics: the message and the change may arrive in either order.
      expect(activities(feed).map((x) => x.kind).sort()).toEqual(['INBOX_CHANGED', 'MESSAGE_ADDED']);
      expect(inboxChanges(feed)[0]).toEqual({
        kind: 'INBOX_CHANGED',
        threadId,
        teamId: team.id,
        message: null,
        inbox: expect.objectContaining({ status: 'OPEN', assignee: null, doneBy: null }),
      });
    }
    await feeds.pat.waitFor(1);

    // A professional's message to a done thread reopens nothing.
    await markDone(b, threadId, team);
    await env.world.send(b, threadId, 'please come in');
    for (const feed of [feeds.a, feeds.b]) await feed.waitFor(4);
    await heardNothingMore([feeds.a, feeds.b, feeds.pat], [4, 4, 2]);
    expect(activities(feeds.pat).map((x) => [x.kind, x.teamId, x.inbox, x.message?.body])).toEqual([
      ['MESSAGE_ADDED', null, null, 'it hurts again'],
      ['MESSAGE_ADDED', null, null, 'please come in'],
    ]);
    expect(activities(feeds.a).slice(2).map((x) => x.kind).sort()).toEqual(['INBOX_CHANGED', 'MESSAGE_ADDED']);
    expect(inboxChanges(feeds.a)[1].inbox).toMatchObject({ status: 'DONE', doneBy: { id: b.id } });
  });

  test('the assignee leaving: the members who stay hear INBOX_CHANGED without an assignee; the leaver hears only LEFT_THREAD, the patient only the participants change', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Live leave');
    await claim(a, threadId, team);
    const feeds = { a: dashboard(a), b: dashboard(b), pat: dashboard(pat) };
    await untilDashboards(env.server, 3);

    await env.world.leave(a, threadId);
    await feeds.b.waitFor(2);
    expect(activities(feeds.b).map((x) => x.kind).sort()).toEqual(['INBOX_CHANGED', 'PARTICIPANTS_CHANGED']);
    expect(inboxChanges(feeds.b)[0]).toMatchObject({ teamId: team.id, inbox: { assignee: null, status: 'OPEN' } });
    await feeds.a.waitFor(1);
    await feeds.pat.waitFor(1);
    await heardNothingMore([feeds.a, feeds.b, feeds.pat], [1, 2, 1]);
    expect(activities(feeds.a).map((x) => x.kind)).toEqual(['LEFT_THREAD']);
    expect(activities(feeds.pat).map((x) => [x.kind, x.teamId, x.inbox])).toEqual([['PARTICIPANTS_CHANGED', null, null]]);
  });

  test('the assignee removed from the team (and so from the thread): the members in the thread hear INBOX_CHANGED and PARTICIPANTS_CHANGED, the patient PARTICIPANTS_CHANGED, the one removed REMOVED_FROM_THREAD', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Live removal');
    await claim(a, threadId, team);
    await env.world.setCoverageMinimum(team, 1);
    const feeds = { a: dashboard(a), b: dashboard(b), pat: dashboard(pat) };
    await untilDashboards(env.server, 3);

    await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: a.id });
    await feeds.b.waitFor(2);
    expect(activities(feeds.b).map((x) => x.kind).sort()).toEqual(['INBOX_CHANGED', 'PARTICIPANTS_CHANGED']);
    expect(inboxChanges(feeds.b)).toEqual([{ kind: 'INBOX_CHANGED', threadId, teamId: team.id, message: null, inbox: expect.objectContaining({ assignee: null }) }]);
    await feeds.a.waitFor(1);
    await feeds.pat.waitFor(1);
    await heardNothingMore([feeds.a, feeds.b, feeds.pat], [1, 2, 1]);
    expect(activities(feeds.a).map((x) => x.kind)).toEqual(['REMOVED_FROM_THREAD']);
    expect(activities(feeds.pat).map((x) => [x.kind, x.teamId, x.inbox])).toEqual([['PARTICIPANTS_CHANGED', null, null]]);
  });
});

describe('the patient never learns who is assigned', () => {
  /** Everything the patient can ask about their thread, less the records of their own reads. */
  async function patientView(pat: Person, threadId: string, team: TeamRef) {
    const view = await env.world.as(
      pat,
      `query($t: ID!) {
        thread(id: $t) {
          id subject createdAt createdBy { id } unreadCount teams { id name }
          inbox { threadId teamId status assignee { id } }
          participants { user { id name } viaTeam { id } addedBy { id } joinedAt lastReadAt }
          messages(first: 100) { edges { node { id body author { id } readBy { id } readByCareTeamAt } } }
          lastMessage { id }
        }
        threads(first: 100) { edges { node { id } } }
        me { id teams { id } }
        teams { id name members { id } }
        auditTrail(threadId: $t) { action outcome actor { id } subject { id } team { id } }
        myAccessLog(first: 100) { edges { node { action who { id } threadId } } }
      }`,
      { t: threadId },
    );
    const ownReads = ['THREAD_READ', 'AUDIT_TRAIL_READ'];
    view.auditTrail = view.auditTrail.filter((e: TrailEvent) => !(ownReads.includes(e.action) && e.actor.id === pat.id));
    const inbox = await gql(env.server.url, INBOX, { team: team.id }, pat.token);
    return { view, inbox };
  }

  test('claims, assignments and done change nothing the patient can see: Thread.inbox, teamInbox, the audit trail, the access log, the dashboard feed', async () => {
    const { a, b, team, pat, threadId } = await patientThread('Private');
    const feed = dashboard(pat);
    await untilDashboards(env.server, 1);
    const before = await patientView(pat, threadId, team);
    expect(before.view.thread.inbox).toEqual([]);
    expect(before.inbox.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);

    await claim(a, threadId, team);
    await assign(a, threadId, team, b);
    await markDone(b, threadId, team);
    await reopen(a, threadId, team);
    const after = await patientView(pat, threadId, team);
    expect(after).toEqual(before);
    await heardNothingMore([feed], [0]);

    // The patient's own attempts are refused without naming anyone.
    for (const field of CHANGES) {
      const error = await refusal(pat, field, threadId, team);
      expect({ field, code: error.extensions?.code }).toEqual({ field, code: 'FORBIDDEN' });
      expect(error.message).not.toContain(b.name);
    }
  });

  test("after the patient's message reopens the thread, their audit trail still names no assignee", async () => {
    const { a, team, pat, threadId } = await patientThread('Private reopen');
    await claim(a, threadId, team);
    await markDone(a, threadId, team);
    await env.world.send(pat, threadId, 'me again');
    expect((await itemOf(a, threadId, team)).status).toBe('OPEN');
    // The team sees the reopening with the former assignee; the patient's trail has no inbox event at all.
    expect(brief(await inboxTrail(threadId, a)).map((e) => e.action)).toEqual(['THREAD_ASSIGNED', 'THREAD_MARKED_DONE', 'THREAD_REOPENED']);
    expect(await inboxTrail(threadId, pat)).toEqual([]);
  });
});
