import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../src/data-source';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { startChildServer, type ChildServer } from './support/child-server';
import { HOUR, MINUTE, TestClock } from './support/clock';
import { codes, gql, ok } from './support/graphql';
import { listen, settle, until, untilDashboards, type Feed } from './support/live';
import { redisAnswers, TEST_REDIS_URL } from './support/redis';
import { startTestServer, TEST_POSTGRES_URL, type TestServer } from './support/server';
import { sharedDatabase } from './support/shared-database';
import { asRecipient, useLiveWorld, World, type Person, type TeamRef } from './support/world';
import { CreateThreadDocument, MarkThreadDoneDocument, ReopenThreadDocument, SendMessageDocument } from '../web/gql/graphql';

// Team waiting limits (escalation), through the API of real servers. The
// schedule reads a TestClock that the tests move forward; message times stay
// real, so "the patient has waited an hour" is clock.advance(HOUR) after the
// message. Servers poll every 20 ms; "nothing arrived" is asserted only after
// whole polling rounds have passed (TestClock.roundsPassed) and the silent
// client was settled.

const POLL_MS = '20';
const clock = new TestClock();
const env = useLiveWorld({ ESCALATION_POLL_MS: POLL_MS }, { clock });
const { clients } = env;

// Each test starts at real time: what an earlier test moved forward would make every new wait due at once.
beforeEach(() => clock.reset());

const LIMIT = `mutation($t: ID!, $m: Int) { setTeamWaitingLimit(teamId: $t, minutes: $m) { id waitingLimitMinutes } }`;
const INBOX = `query($t: ID!, $s: InboxStatus) {
  teamInbox(teamId: $t, status: $s, first: 100) { edges { node { threadId status waitingSince escalationDueAt escalatedAt } } }
}`;
const AUDIT = `query($a: String!, $t: ID, $after: String) {
  auditEvents(filter: { action: $a, threadId: $t }, first: 100, after: $after) {
    edges { node { id action actor { id } threadId messageId team { id } instanceId } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ACTIVITY = `subscription { threadActivity { kind threadId teamId message { body } inbox { escalationDueAt escalatedAt } } }`;
const DISABLE = `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`;
const FIRST_MESSAGE = `query($t: ID!) { thread(id: $t) { messages(first: 1) { edges { node { id } } } } }`;

interface Activity {
  kind: string;
  threadId: string;
  teamId: string | null;
  message: { body: string } | null;
  inbox: { escalationDueAt: string | null; escalatedAt: string | null } | null;
}
type Dashboard = Feed<{ threadActivity: Activity }> & { client: Client; person: Person };

interface InboxItem {
  threadId: string;
  status: 'OPEN' | 'DONE';
  waitingSince: string | null;
  escalationDueAt: string | null;
  escalatedAt: string | null;
}

interface Escalation {
  id: string;
  action: string;
  actor: { id: string };
  threadId: string;
  messageId: string;
  team: { id: string } | null;
  instanceId: string | null;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `person`'s dashboard feed, on the file's server unless `wsUrl` says another. */
function dashboard(person: Person, wsUrl = env.server.wsUrl, own: Client[] = clients): Dashboard {
  return { ...listen<{ threadActivity: Activity }>(wsUrl, person.token, ACTIVITY, own), person };
}

const activities = (feed: Dashboard) => feed.received.map((r) => r.threadActivity);
/** The ESCALATED alerts a dashboard got, for one thread or for any. */
const alerts = (feed: Dashboard, threadId?: string) => activities(feed).filter((a) => a.kind === 'ESCALATED' && (!threadId || a.threadId === threadId));

/** Resolves once `rounds` whole polling rounds of the file's server began after this call and have finished. */
const rounds = (count = 3) => until(clock.roundsPassed(count), 5000);

/** Lets in-flight deliveries land, then checks that none of `feeds` got an alert. */
async function expectNoAlerts(feeds: Dashboard[]): Promise<void> {
  for (const feed of feeds) {
    await settle(feed.client);
    expect({ who: feed.person.name, alerts: alerts(feed) }).toEqual({ who: feed.person.name, alerts: [] });
    expect(feed.errors).toEqual([]);
  }
}

function setLimit(who: Person | null, team: { id: string }, minutes: number | null, url = env.server.url) {
  return gql(url, LIMIT, { t: team.id, m: minutes }, who?.token);
}

async function limit(who: Person, team: TeamRef, minutes: number | null, url = env.server.url): Promise<void> {
  const { setTeamWaitingLimit } = await ok(url, LIMIT, { t: team.id, m: minutes }, who.token);
  expect(setTeamWaitingLimit).toEqual({ id: team.id, waitingLimitMinutes: minutes });
}

/** The thread as a member sees it in the team's inbox. */
async function inboxItem(who: Person, team: TeamRef, threadId: string, status: 'OPEN' | 'DONE' = 'OPEN', url = env.server.url): Promise<InboxItem> {
  const { teamInbox } = await ok(url, INBOX, { t: team.id, s: status }, who.token);
  const item = teamInbox.edges.map((e: { node: InboxItem }) => e.node).find((n: InboxItem) => n.threadId === threadId);
  if (!item) throw new Error(`thread ${threadId} is not ${status} in the inbox of ${team.name}`);
  return item;
}

const plusMinutes = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * MINUTE).toISOString();

/** Every audit event with `action` (of one thread, if given), as an admin searches them, oldest first. */
async function auditEvents(world: World, action: string, threadId?: string, url = world.server.url): Promise<Escalation[]> {
  const events: Escalation[] = [];
  let after: string | null = null;
  for (;;) {
    const { auditEvents: page }: { auditEvents: { edges: { node: Escalation }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await ok(
      url,
      AUDIT,
      { a: action, t: threadId ?? null, after },
      world.admin.token,
    );
    events.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return events.reverse();
    after = page.pageInfo.endCursor;
  }
}

const escalations = (threadId: string) => auditEvents(env.world, 'THREAD_ESCALATED', threadId);

/**
 * Who each THREAD_ESCALATED of the thread says was alerted (its `recipients`).
 * The API does not show this column (only MESSAGE_DELIVERED's reach the
 * access log and the FHIR export), so it is read from the table.
 */
async function recipientsOf(db: DataSource, threadId?: string): Promise<Map<string, string[][]>> {
  const rows = await db.getRepository(AuditEvent).find({ where: { action: AuditAction.ThreadEscalated, ...(threadId ? { threadId } : {}) }, order: { id: 'ASC' } });
  const byThread = new Map<string, string[][]>();
  for (const row of rows) {
    const ids = (JSON.parse(row.recipients ?? 'null') as { id: string }[] | null)?.map((r) => r.id).sort() ?? [];
    byThread.set(row.threadId!, [...(byThread.get(row.threadId!) ?? []), ids]);
  }
  return byThread;
}

const ids = (...people: Person[]) => people.map((p) => p.id).sort();

async function firstMessageId(url: string, who: Person, threadId: string): Promise<string> {
  return (await ok(url, FIRST_MESSAGE, { t: threadId }, who.token)).thread.messages.edges[0].node.id;
}

/** What the team's members see once the alert of a thread went out: nothing more due, and when it was sent. */
const ALERTED = { escalationDueAt: null, escalatedAt: expect.stringMatching(ISO_TIME) };

describe('one server, the clock moved forward', () => {
  test('nothing before the limit; once it passes, every member of the team in the thread is alerted exactly once, and nobody else', async () => {
    const { a, b, quiet, team, pat } = await env.world.careTeam('Alert');
    const leaver = await env.world.professional('Alert Leaver');
    await env.world.addMember(team, leaver);
    const outsider = await env.world.professional('Alert Outsider');
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'my ankle is still swollen', 'Ankle');
    await env.world.leave(leaver, threadId);
    // A member who joined the team after the thread began joined the open thread too.
    const latecomer = await env.world.professional('Alert Latecomer');
    await env.world.addMember(team, latecomer);
    const alerted = [dashboard(a), dashboard(b), dashboard(latecomer)];
    const silent = [dashboard(pat), dashboard(quiet), dashboard(leaver), dashboard(outsider)];
    await untilDashboards(env.server, alerted.length + silent.length);

    const waiting = await inboxItem(a, team, threadId);
    expect(waiting).toEqual({ threadId, status: 'OPEN', waitingSince: expect.stringMatching(ISO_TIME), escalationDueAt: plusMinutes(waiting.waitingSince!, 60), escalatedAt: null });

    clock.advance(59 * MINUTE);
    await rounds();
    await expectNoAlerts([...alerted, ...silent]);
    expect(await escalations(threadId)).toEqual([]);

    clock.advance(2 * MINUTE);
    await until(() => alerted.every((feed) => alerts(feed, threadId).length > 0));
    for (const feed of alerted) {
      expect(alerts(feed)).toEqual([{ kind: 'ESCALATED', threadId, teamId: team.id, message: null, inbox: ALERTED }]);
    }
    expect(await inboxItem(b, team, threadId)).toEqual({ ...waiting, ...ALERTED });

    // Later rounds, and a day later still, send nothing more: once per wait.
    clock.advance(24 * HOUR);
    await rounds();
    for (const feed of alerted) {
      await settle(feed.client);
      expect(alerts(feed)).toHaveLength(1);
      expect(feed.errors).toEqual([]);
    }
    await expectNoAlerts(silent);
    expect(await inboxItem(a, team, threadId)).toEqual({ ...waiting, ...ALERTED });
  });

  test('the audit trail has one THREAD_ESCALATED: the waiting message and its author, the team, and the members alerted', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Audited');
    await limit(b, team, 30);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'the rash is spreading');
    await env.world.send(pat, threadId, 'and it itches');
    const feed = dashboard(a);
    await untilDashboards(env.server, 1);

    clock.advance(31 * MINUTE);
    await until(() => alerts(feed, threadId).length > 0);
    clock.advance(HOUR);
    await rounds();

    expect(await escalations(threadId)).toEqual([
      {
        id: expect.any(String),
        action: 'THREAD_ESCALATED',
        actor: { id: pat.id },
        threadId,
        messageId: await firstMessageId(env.server.url, a, threadId),
        team: { id: team.id },
        instanceId: expect.any(String),
      },
    ]);
    expect(await recipientsOf(env.server.app.db, threadId)).toEqual(new Map([[threadId, [ids(a, b)]]]));
    // The thread's own trail shows it to the staff in it; the patient's leaves it out (it names who was alerted).
    const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { action actor { id } } }`;
    const escalatedIn = (trail: { action: string }[]) => trail.filter((e) => e.action === 'THREAD_ESCALATED');
    expect(escalatedIn((await env.world.as(b, TRAIL, { t: threadId })).auditTrail)).toEqual([{ action: 'THREAD_ESCALATED', actor: { id: pat.id } }]);
    expect(escalatedIn((await env.world.as(pat, TRAIL, { t: threadId })).auditTrail)).toEqual([]);
  });

  test('a member whose account is disabled is not alerted and is not among the recipients', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Disabled');
    const gone = await env.world.professional('Disabled Dr Gone');
    await env.world.addMember(team, gone);
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'still dizzy');
    await env.world.as(env.world.admin, DISABLE, { u: gone.id });
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    clock.advance(61 * MINUTE);
    await until(() => feeds.every((feed) => alerts(feed, threadId).length > 0));
    expect(await recipientsOf(env.server.app.db, threadId)).toEqual(new Map([[threadId, [ids(a, b)]]]));
  });

  test("a professional's reply before the limit cancels the alert", async () => {
    const { a, b, team, pat } = await env.world.careTeam('Answered');
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'can I take ibuprofen?');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    clock.advance(45 * MINUTE);
    await env.world.send(b, threadId, 'Yes, with food');
    expect(await inboxItem(a, team, threadId)).toMatchObject({ waitingSince: null, escalationDueAt: null, escalatedAt: null });

    clock.advance(3 * HOUR);
    await rounds();
    await expectNoAlerts(feeds);
    expect(await escalations(threadId)).toEqual([]);
  });

  test('each wait is escalated once: more patient messages change nothing; after a reply, a new wait escalates again', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Again');
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'first question');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    clock.advance(61 * MINUTE);
    await until(() => feeds.every((feed) => alerts(feed, threadId).length === 1));
    const first = await inboxItem(a, team, threadId);
    expect(first).toMatchObject(ALERTED);

    // The patient writes again into the same wait: no second alert.
    await env.world.send(pat, threadId, 'hello? anyone?');
    clock.advance(2 * HOUR);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect(alerts(feed, threadId)).toHaveLength(1);
    }
    expect(await inboxItem(a, team, threadId)).toEqual(first);

    // A reply ends the wait; the patient's next message starts a new one, with its own alert. The clock
    // goes back to real time first: message times are real, so the new wait would be overdue at once.
    clock.reset();
    await env.world.send(a, threadId, 'Sorry, here now');
    const replied = await inboxItem(a, team, threadId);
    expect(replied).toMatchObject({ waitingSince: null, escalationDueAt: null, escalatedAt: first.escalatedAt });
    const secondMessageId = await env.world.send(pat, threadId, 'second question');
    const second = await inboxItem(a, team, threadId);
    expect(second.waitingSince).not.toBeNull();
    expect(Date.parse(second.waitingSince!)).toBeGreaterThan(Date.parse(first.waitingSince!));
    expect(second).toMatchObject({ escalationDueAt: plusMinutes(second.waitingSince!, 60), escalatedAt: first.escalatedAt });

    clock.advance(59 * MINUTE);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect(alerts(feed, threadId)).toHaveLength(1);
    }
    clock.advance(2 * MINUTE);
    await until(() => feeds.every((feed) => alerts(feed, threadId).length === 2));
    expect(Date.parse((await inboxItem(b, team, threadId)).escalatedAt!)).toBeGreaterThan(Date.parse(second.waitingSince!));
    clock.advance(HOUR);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect(alerts(feed, threadId)).toHaveLength(2);
    }
    const events = await escalations(threadId);
    expect(events.map((e) => e.messageId)).toEqual([await firstMessageId(env.server.url, a, threadId), secondMessageId]);
    expect(await recipientsOf(env.server.app.db, threadId)).toEqual(new Map([[threadId, [ids(a, b), ids(a, b)]]]));
  });

  test('a thread the team marked done is not escalated; reopening it, or the patient writing again, makes the wait due again', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Done');
    await limit(a, team, 60);
    const reopened = await env.world.thread(pat, [asRecipient(team)], 'thanks, all clear', 'Reopened by a member');
    const rewritten = await env.world.thread(pat, [asRecipient(team)], 'thanks again', 'Reopened by the patient');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);
    for (const threadId of [reopened, rewritten]) {
      expect((await env.world.as(b, MarkThreadDoneDocument, { threadId, teamId: team.id })).markThreadDone).toMatchObject({ status: 'DONE', escalationDueAt: null });
    }

    clock.advance(3 * HOUR);
    await rounds();
    await expectNoAlerts(feeds);
    expect(await inboxItem(a, team, reopened, 'DONE')).toMatchObject({ escalationDueAt: null, escalatedAt: null });

    // The wait never ended, so it is overdue the moment the thread is open again.
    const { reopenThread } = await env.world.as(a, ReopenThreadDocument, { threadId: reopened, teamId: team.id });
    expect(reopenThread.status).toBe('OPEN');
    await env.world.send(pat, rewritten, 'actually it came back');
    expect(await inboxItem(a, team, rewritten)).toMatchObject({ status: 'OPEN' });
    await until(() => feeds.every((feed) => alerts(feed, reopened).length > 0 && alerts(feed, rewritten).length > 0));
    clock.advance(HOUR);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect([alerts(feed, reopened).length, alerts(feed, rewritten).length]).toEqual([1, 1]);
    }
  });

  test('changing the limit reschedules waiting threads at once: raising it delays the alert, lowering it makes an old wait due now', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Rescheduled');
    await limit(a, team, 600);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'when are my results due?');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);
    const { waitingSince, escalationDueAt } = await inboxItem(a, team, threadId);
    expect(escalationDueAt).toBe(plusMinutes(waitingSince!, 600));

    await limit(b, team, 120);
    expect((await inboxItem(a, team, threadId)).escalationDueAt).toBe(plusMinutes(waitingSince!, 120));
    clock.advance(90 * MINUTE);
    await rounds();
    await limit(a, team, 240);
    expect((await inboxItem(a, team, threadId)).escalationDueAt).toBe(plusMinutes(waitingSince!, 240));
    clock.advance(60 * MINUTE); // 150 minutes: past the limit of a moment ago, not the one now
    await rounds();
    await expectNoAlerts(feeds);

    await limit(env.world.admin, team, 20);
    await until(() => feeds.every((feed) => alerts(feed, threadId).length > 0));
    clock.advance(HOUR);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect(alerts(feed, threadId)).toHaveLength(1);
    }
    // Changing the limit after the alert does not alert again for the same wait.
    await limit(a, team, 10);
    await rounds();
    for (const feed of feeds) {
      await settle(feed.client);
      expect(alerts(feed, threadId)).toHaveLength(1);
    }
    expect(await inboxItem(a, team, threadId)).toMatchObject(ALERTED);
    const changes = (await auditEvents(env.world, 'TEAM_WAITING_LIMIT_CHANGED')).filter((e) => e.team?.id === team.id);
    expect(changes.map((e) => e.actor.id)).toEqual([a.id, b.id, a.id, env.world.admin.id, a.id]);
  });

  test('null turns alerts off for the threads already waiting; setting a limit again schedules them', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Switched off');
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'is the clinic open on Monday?');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    await limit(a, team, null);
    const { waitingSince, escalationDueAt } = await inboxItem(a, team, threadId);
    expect(escalationDueAt).toBeNull();
    clock.advance(3 * HOUR);
    await rounds();
    await expectNoAlerts(feeds);

    // Back to real time, so that the wait is not overdue the moment the limit is set again.
    clock.reset();
    await limit(b, team, 60);
    expect((await inboxItem(a, team, threadId)).escalationDueAt).toBe(plusMinutes(waitingSince!, 60));
    clock.advance(61 * MINUTE);
    await until(() => feeds.every((feed) => alerts(feed, threadId).length > 0));
  });

  test('only admins and members of the team may set its limit; bad values and unknown teams are refused, and nothing changes', async () => {
    const { a, team, pat } = await env.world.careTeam('Guarded');
    const outsider = await env.world.professional('Guarded Outsider');
    await limit(a, team, 60);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'a question');
    const before = await inboxItem(a, team, threadId);
    const changes = async () => (await auditEvents(env.world, 'TEAM_WAITING_LIMIT_CHANGED')).filter((e) => e.team?.id === team.id).length;
    expect(await changes()).toBe(1);

    const refusals = {
      anonymous: await setLimit(null, team, 30),
      outsider: await setLimit(outsider, team, 30),
      patient: await setLimit(pat, team, 30),
      zero: await setLimit(a, team, 0),
      negative: await setLimit(env.world.admin, team, -5),
      overAWeek: await setLimit(a, team, 7 * 24 * 60 + 1),
      unknownTeam: await setLimit(env.world.admin, { id: randomUUID() }, 30),
      notAnId: await setLimit(env.world.admin, { id: 'no-such-team' }, 30),
    };
    const seen = Object.fromEntries(Object.entries(refusals).map(([k, r]) => [k, { data: r.data ?? null, codes: r.errors?.map((e) => e.extensions?.code) }]));
    expect(seen).toEqual({
      anonymous: { data: null, codes: ['UNAUTHENTICATED'] },
      outsider: { data: null, codes: ['FORBIDDEN'] },
      patient: { data: null, codes: ['FORBIDDEN'] },
      zero: { data: null, codes: ['BAD_USER_INPUT'] },
      negative: { data: null, codes: ['BAD_USER_INPUT'] },
      overAWeek: { data: null, codes: ['BAD_USER_INPUT'] },
      unknownTeam: { data: null, codes: ['NOT_FOUND'] },
      notAnId: { data: null, codes: ['NOT_FOUND'] },
    });
    expect(refusals.zero.errors![0].message).toBe('The waiting limit must be 1 to 10080 minutes, or null for no alerts');
    // Not an Int at all: refused by validation.
    expect(await codes(env.server.url, LIMIT, { t: team.id, m: 1.5 }, a.token)).toEqual(['BAD_USER_INPUT']);

    const { teams } = await env.world.as(a, `{ teams { id waitingLimitMinutes } }`);
    expect(teams.find((t: { id: string }) => t.id === team.id)).toEqual({ id: team.id, waitingLimitMinutes: 60 });
    expect(await inboxItem(a, team, threadId)).toEqual(before);
    expect(await changes()).toBe(1);

    // The limits allowed at the edges, by an admin and by a member; the same value again changes nothing.
    await limit(env.world.admin, team, 7 * 24 * 60);
    await limit(a, team, 1);
    await limit(a, team, 1);
    expect(await changes()).toBe(3);
  });
});

const DATABASES: ('sqlite' | 'postgres')[] = TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(DATABASES)('durable schedule (%s)', (kind) => {
  test('a server closed before the limit, and a new one on the same database with the clock past it: the alert fires, once', async () => {
    const database = sharedDatabase('escalation-restart', kind);
    const own: Client[] = [];
    let server: TestServer | undefined;
    try {
      const before = new TestClock();
      server = await startTestServer({ ...database.env, ESCALATION_POLL_MS: POLL_MS }, { clock: before });
      const world = await World.create(server);
      const { a, b, team, pat } = await world.careTeam('Restart');
      await limit(a, team, 240, server.url);
      const threadId = await world.thread(pat, [asRecipient(team)], 'my wound is leaking', 'Wound');
      before.advance(3 * HOUR);
      await until(before.roundsPassed(3));
      const scheduled = await inboxItem(a, team, threadId, 'OPEN', server.url);
      expect(scheduled.escalationDueAt).toBe(plusMinutes(scheduled.waitingSince!, 240));
      await server.close();

      // A new process, as after a deploy: it knows nothing but the database.
      const after = new TestClock(3 * HOUR);
      server = await startTestServer({ ...database.env, ESCALATION_POLL_MS: POLL_MS }, { clock: after });
      const feeds = [a, b].map((person) => dashboard(person, server!.wsUrl, own));
      await untilDashboards(server, feeds.length);
      expect(await inboxItem(a, team, threadId, 'OPEN', server.url)).toEqual(scheduled);
      expect(await auditEvents(world, 'THREAD_ESCALATED', threadId, server.url)).toEqual([]);

      after.advance(61 * MINUTE);
      await until(() => feeds.every((feed) => alerts(feed, threadId).length > 0));
      after.advance(HOUR);
      await until(after.roundsPassed(3));
      for (const feed of feeds) {
        await settle(feed.client);
        expect(alerts(feed, threadId)).toHaveLength(1);
      }
      expect(await auditEvents(world, 'THREAD_ESCALATED', threadId, server.url)).toHaveLength(1);
      expect(await recipientsOf(server.app.db, threadId)).toEqual(new Map([[threadId, [ids(a, b)]]]));
    } finally {
      await Promise.all(own.map((c) => c.dispose()));
      await server?.close();
      await database.drop();
    }
  });
});

const INSTANCES = 3;
/** More than one round's batch (50), so that rounds that take a full batch go on at once. */
const THREADS = 60;
const MEMBERS = 4;

describe.each(DATABASES)('several instances on one database (%s)', (kind) => {
  const database = sharedDatabase('escalation-instances', kind);
  const own: Client[] = [];
  const instances: ChildServer[] = [];
  const instanceIds = Array.from({ length: INSTANCES }, (_, i) => `escalation-${i}-${database.tag}`);
  let redisMissing = false;

  beforeAll(async () => {
    if (!(await redisAnswers())) {
      redisMissing = true;
      return;
    }
    const settings = (i: number) => ({ ...database.env, REDIS_URL: TEST_REDIS_URL, ESCALATION_POLL_MS: POLL_MS, INSTANCE_ID: instanceIds[i] });
    // The first runs the migrations alone; the others start together on the migrated database.
    instances.push(await startChildServer(settings(0)));
    instances.push(...(await Promise.all(Array.from({ length: INSTANCES - 1 }, (_, i) => startChildServer(settings(i + 1))))));
  }, 90_000);

  afterAll(async () => {
    // They log errors only: anything here explains a failure.
    for (const [i, instance] of instances.entries()) if (instance.output().trim()) console.warn(`instance ${i} (pid ${instance.pid}) said:\n${instance.output()}`);
    await Promise.all(own.splice(0).map((c) => c.dispose()));
    await Promise.all(instances.map((i) => i.close()));
    await database.drop();
  }, 30_000);

  test(`${THREADS} overdue threads, ${INSTANCES} instances polling with the same clock: each thread is escalated once, and each member hears of it once, on whichever instance they are connected to`, async () => {
    if (redisMissing) {
      console.warn(`skipped: Redis at ${TEST_REDIS_URL} does not answer`);
      return;
    }
    const world = await World.create(instances[0]);
    const members = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => world.professional(`Instances Dr ${i}`)));
    const team = await world.team('Instances Team', { autoCc: true, members });
    const pat = await world.patient('Instances Pat');
    await world.share(pat, team);
    await limit(members[0], team, 60, instances[1].url);
    // Written through every instance in turn.
    const threadIds: string[] = [];
    for (let i = 0; i < THREADS; i++) {
      const { createThread } = await ok(instances[i % INSTANCES].url, CreateThreadDocument, { subject: `Question ${i}`, body: `question ${i}`, recipients: [asRecipient(team)] }, pat.token);
      threadIds.push(createThread.id);
    }

    // Member i watches on instance i (mod the count), the patient on the last one.
    const watchers = [...members.map((member, i) => ({ person: member, instance: instances[i % INSTANCES] })), { person: pat, instance: instances[INSTANCES - 1] }];
    const [patFeed, ...feeds] = [watchers[watchers.length - 1], ...watchers.slice(0, -1)].map((w) => dashboard(w.person, w.instance.wsUrl, own));
    for (const instance of instances) {
      const count = watchers.filter((w) => w.instance === instance).length;
      await until(async () => (await instance.subscriberCount()) >= count, 10_000, `instance ${instance.pid} never held ${count} dashboards`);
    }

    // Each instance's link through Redis may still be starting: a member writes to the team through each
    // instance until every dashboard has heard from every instance.
    const probe = (await ok(instances[0].url, CreateThreadDocument, { subject: 'Probe', body: 'probe', recipients: [asRecipient(team)] }, members[0].token)).createThread.id;
    const heard = (feed: Dashboard, i: number) => activities(feed).some((a) => a.threadId === probe && a.message?.body.startsWith(`via ${i} `));
    for (const [i, instance] of instances.entries()) {
      let n = 0;
      await until(
        async () => {
          if (feeds.every((feed) => heard(feed, i))) return true;
          await ok(instance.url, SendMessageDocument, { threadId: probe, body: `via ${i} #${++n}` }, members[0].token);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return false;
        },
        15_000,
        `a dashboard never heard a message sent through instance ${i}`,
      );
    }
    expect(feeds.flatMap((feed) => alerts(feed))).toEqual([]);
    expect(await auditEvents(world, 'THREAD_ESCALATED')).toEqual([]);

    // Every instance's clock moves past the limit at once.
    await Promise.all(instances.map((instance) => instance.advance(61 * MINUTE)));
    await until(() => feeds.every((feed) => alerts(feed).length >= THREADS), 20_000);
    // A few more whole rounds on every instance, an hour later still; then nothing may arrive late.
    await Promise.all(instances.map((instance) => instance.advance(HOUR)));
    await Promise.all(
      instances.map(async (instance) => {
        const start = await instance.reads();
        await until(async () => (await instance.reads()) >= start + 4, 10_000, `instance ${instance.pid} stopped polling`);
      }),
    );

    for (const feed of [...feeds, patFeed]) await settle(feed.client);
    for (const feed of feeds) {
      const perThread = new Map<string, number>();
      for (const alert of alerts(feed)) perThread.set(alert.threadId, (perThread.get(alert.threadId) ?? 0) + 1);
      expect({ who: feed.person.name, threads: [...perThread.keys()].sort(), most: Math.max(...perThread.values()) }).toEqual({
        who: feed.person.name,
        threads: [...threadIds].sort(),
        most: 1,
      });
      expect(alerts(feed).every((alert) => alert.teamId === team.id)).toBe(true);
      expect(feed.errors).toEqual([]);
    }
    expect(alerts(patFeed)).toEqual([]);

    const events = await auditEvents(world, 'THREAD_ESCALATED', undefined, instances[2].url);
    expect(events.map((e) => e.threadId).sort()).toEqual([...threadIds].sort());
    expect(events.every((e) => e.actor.id === pat.id && e.team?.id === team.id)).toBe(true);
    const db = createDataSource(database.config);
    await db.initialize();
    try {
      const recipients = await recipientsOf(db);
      expect([...recipients.values()].every((sets) => sets.length === 1 && sets[0].join() === ids(...members).join())).toBe(true);
    } finally {
      await db.destroy();
    }
    // Which instance took which thread is not checked: one may take them all (SQLite writers take turns).
    expect(events.every((e) => instanceIds.includes(e.instanceId!))).toBe(true);
    for (const instance of instances) expect(instance.output()).not.toMatch(/escalation round failed/);
  }, 90_000);
});
