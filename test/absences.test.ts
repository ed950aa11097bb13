import type { Client } from 'graphql-ws';
import { AuditAction } from '../src/modules/audit/audit-action';
import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { HOUR, MINUTE, TestClock } from './support/clock';
import { failure } from './support/graphql';
import { listen, settle, until, untilDashboards, type Feed } from './support/live';
import { QueryCounter } from './support/query-counter';
import { asRecipient, useLiveWorld, type Person, type TeamRef } from './support/world';
import { ClaimThreadDocument, MarkThreadReadDocument, SendMessageDocument } from '../web/gql/graphql';

// Absences (issue 8), through the API of a real server. "Now" is the server's
// clock, a TestClock shared by the absence rules, awayUntil and the escalation
// schedule; the tests move it forward instead of waiting. Message times stay
// real (see escalation.test.ts), and the server polls its schedule every 20 ms.

const clock = new TestClock();
const statements = new QueryCounter();
const env = useLiveWorld({ ESCALATION_POLL_MS: '20' }, { clock, queryLogger: statements });
const { clients } = env;

// Each test starts at real time.
beforeEach(() => clock.reset());

const DAY = 24 * HOUR;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** The server's now plus `ms`, as the API takes it. */
const fromNow = (ms: number) => new Date(Date.now() + clock.offset + ms).toISOString();

const ABSENCE_FIELDS = 'id userId startsAt endsAt reason recordedAt';
const RECORD = `mutation($u: ID, $s: DateTime!, $e: DateTime!, $r: String) {
  recordAbsence(userId: $u, startsAt: $s, endsAt: $e, reason: $r) { ${ABSENCE_FIELDS} }
}`;
const CANCEL = `mutation($id: ID!) { cancelAbsence(id: $id) }`;
const ME = `{ me { id awayUntil absences { ${ABSENCE_FIELDS} } } }`;
const PARTICIPANTS = `query($t: ID!) { thread(id: $t) { participants { user { id awayUntil absences { id reason endsAt } } } } }`;
const RECIPIENTS = `query($q: String) { recipients(search: $q, first: 20) {
  ... on TeamRecipient { team { id } members { id awayUntil absences { id reason } } }
  ... on UserRecipient { user { id awayUntil absences { id reason } } }
} }`;
const AUDIT = `query($a: String!) {
  auditEvents(filter: { action: $a }, first: 100) { edges { node { action actor { id } subject { id } outcome } } }
}`;
const ACTIVITY = `subscription { threadActivity { kind threadId teamId message { body author { id awayUntil absences { reason } } } } }`;
const MESSAGES = `query($t: ID!) { thread(id: $t) { messages(first: 50) { edges { node { body author { id } } } } } }`;
const LIMIT = `mutation($t: ID!, $m: Int) { setTeamWaitingLimit(teamId: $t, minutes: $m) { id } }`;
const INBOX = `query($t: ID!) { teamInbox(teamId: $t, first: 100) { edges { node { threadId waitingSince escalationDueAt } } } }`;

interface AbsenceData {
  id: string;
  userId: string;
  startsAt: string;
  endsAt: string;
  reason: string | null;
  recordedAt: string;
}

/** Records an absence as `who` (for themself unless `forUser` is given). */
async function record(who: Person, startsAt: string, endsAt: string, reason: string | null = null, forUser?: Person): Promise<AbsenceData> {
  const { recordAbsence } = await env.world.as(who, RECORD, { u: forUser?.id ?? null, s: startsAt, e: endsAt, r: reason });
  return recordAbsence;
}

/** The refusal of a recordAbsence, as [code, message]. */
async function refused(who: Person, variables: { u?: string | null; s: string; e: string; r?: string | null }): Promise<[unknown, string]> {
  const error = await failure(env.server.url, RECORD, { u: null, r: null, ...variables }, who.token);
  return [error.extensions?.code, error.message];
}

/** awayUntil and the absences of `person`, as they see themself. */
async function me(person: Person): Promise<{ awayUntil: string | null; absences: AbsenceData[] | null }> {
  const { me: self } = await env.world.as(person, ME);
  return { awayUntil: self.awayUntil, absences: self.absences };
}

interface AuditRow {
  action: string;
  actor: { id: string };
  subject: { id: string } | null;
  outcome: string;
}

/** The admin's search for `action`, oldest first, limited to events whose subject is one of `people`. */
async function audited(action: string, ...people: Person[]): Promise<AuditRow[]> {
  const { auditEvents } = await env.world.as(env.world.admin, AUDIT, { a: action });
  const ids = new Set(people.map((p) => p.id));
  return auditEvents.edges.map((e: { node: AuditRow }) => e.node).filter((n: AuditRow) => n.subject && ids.has(n.subject.id)).reverse();
}

interface Activity {
  kind: string;
  threadId: string;
  teamId: string | null;
  message: { body: string; author: { id: string; awayUntil: string | null; absences: unknown } } | null;
}
type Dashboard = Feed<{ threadActivity: Activity }> & { client: Client; person: Person };

function dashboard(person: Person): Dashboard {
  return { ...listen<{ threadActivity: Activity }>(env.server.wsUrl, person.token, ACTIVITY, clients), person };
}

const activities = (feed: Dashboard, kind: string, threadId: string) =>
  feed.received.map((r) => r.threadActivity).filter((a) => a.kind === kind && a.threadId === threadId);
const alerts = (feed: Dashboard, threadId: string) => activities(feed, 'ESCALATED', threadId);
/** Resolves once `count` whole polling rounds began after this call and have finished. */
const rounds = (count = 3) => until(clock.roundsPassed(count), 5000);

/** Who each THREAD_ESCALATED of the thread lists as alerted (not in the API: read from the table, as in escalation.test.ts). */
async function alertedIds(threadId: string): Promise<string[][]> {
  const rows = await env.server.app.db.getRepository(AuditEvent).find({ where: { action: AuditAction.ThreadEscalated, threadId }, order: { id: 'ASC' } });
  return rows.map((row) => ((JSON.parse(row.recipients ?? 'null') as { id: string }[] | null) ?? []).map((r) => r.id).sort());
}

const ids = (...people: Person[]) => people.map((p) => p.id).sort();

/** When the thread's alert is due in the team's inbox, as `who` (a member in the thread) reads it; null when none is scheduled. */
async function escalationDueAt(who: Person, team: TeamRef, threadId: string): Promise<string | null> {
  const { teamInbox } = await env.world.as(who, INBOX, { t: team.id });
  return teamInbox.edges.find((e: { node: { threadId: string } }) => e.node.threadId === threadId).node.escalationDueAt;
}

async function limit(who: Person, team: TeamRef, minutes: number | null): Promise<void> {
  await env.world.as(who, LIMIT, { t: team.id, m: minutes });
}

describe('recording and cancelling', () => {
  test('a professional records their own absence and an admin one for any professional; the reason is trimmed and optional; each is audited ABSENCE_RECORDED naming the absent professional', async () => {
    const own = await env.world.professional('Record Own');
    const other = await env.world.professional('Record Other');
    const startsAt = fromNow(DAY);
    const endsAt = fromNow(3 * DAY);

    const mine = await record(own, startsAt, endsAt, '  Annual leave  ');
    expect(mine).toEqual({ id: expect.any(String), userId: own.id, startsAt, endsAt, reason: 'Annual leave', recordedAt: expect.stringMatching(ISO_TIME) });
    const byAdmin = await record(env.world.admin, startsAt, endsAt, null, other);
    expect(byAdmin).toMatchObject({ userId: other.id, reason: null });
    // A blank reason is no reason.
    expect(await record(other, fromNow(4 * DAY), fromNow(5 * DAY), '   ')).toMatchObject({ userId: other.id, reason: null });

    expect((await me(own)).absences).toEqual([mine]);
    expect(await audited('ABSENCE_RECORDED', own, other)).toEqual([
      { action: 'ABSENCE_RECORDED', actor: { id: own.id }, subject: { id: own.id }, outcome: 'SUCCESS' },
      { action: 'ABSENCE_RECORDED', actor: { id: env.world.admin.id }, subject: { id: other.id }, outcome: 'SUCCESS' },
      { action: 'ABSENCE_RECORDED', actor: { id: other.id }, subject: { id: other.id }, outcome: 'SUCCESS' },
    ]);
  });

  test('refused, changing nothing: patients and a professional for someone else (FORBIDDEN), an unknown user (NOT_FOUND), a patient as the absent one, an end not after the start, an absence in the past, a reason over 200 characters (BAD_USER_INPUT)', async () => {
    const pro = await env.world.professional('Refused Pro');
    const colleague = await env.world.professional('Refused Colleague');
    const pat = await env.world.patient('Refused Pat');
    const admin = env.world.admin;
    const later = { s: fromNow(HOUR), e: fromNow(2 * HOUR) };

    expect(await refused(pat, later)).toEqual(['FORBIDDEN', expect.stringContaining('professionals')]);
    expect(await refused(pat, { ...later, u: pro.id })).toEqual(['FORBIDDEN', expect.any(String)]);
    expect(await refused(pro, { ...later, u: colleague.id })).toEqual(['FORBIDDEN', expect.stringContaining('admin')]);
    expect(await refused(admin, { ...later, u: UNKNOWN_ID })).toEqual(['NOT_FOUND', 'User not found']);
    expect(await refused(admin, { ...later, u: 'not-an-id' })).toEqual(['NOT_FOUND', 'User not found']);
    expect(await refused(admin, { ...later, u: pat.id })).toEqual(['BAD_USER_INPUT', expect.stringContaining('patients')]);
    const end = 'The end must be after the start';
    expect(await refused(pro, { s: later.e, e: later.s })).toEqual(['BAD_USER_INPUT', end]);
    expect(await refused(pro, { s: later.s, e: later.s })).toEqual(['BAD_USER_INPUT', end]);
    expect(await refused(pro, { s: fromNow(-3 * HOUR), e: fromNow(-HOUR) })).toEqual(['BAD_USER_INPUT', expect.stringContaining('absence in the past')]);
    expect(await refused(admin, { s: fromNow(-3 * HOUR), e: fromNow(-HOUR), u: colleague.id })).toEqual(['BAD_USER_INPUT', expect.stringContaining('absence in the past')]);
    expect(await refused(pro, { ...later, r: 'x'.repeat(201) })).toEqual(['BAD_USER_INPUT', 'reason must be at most 200 characters']);
    expect((await failure(env.server.url, RECORD, { s: 'next tuesday', e: later.e }, pro.token)).extensions?.code).toBe('BAD_USER_INPUT');

    for (const who of [pro, colleague]) expect(await me(who)).toEqual({ awayUntil: null, absences: [] });
    expect(await audited('ABSENCE_RECORDED', pro, colleague, pat)).toEqual([]);
    // 200 characters are fine, and so is a start in the past with an end in the future: away at once.
    const away = await record(pro, fromNow(-HOUR), later.e, 'y'.repeat(200));
    expect(await me(pro)).toEqual({ awayUntil: later.e, absences: [away] });
  });

  test('cancelAbsence: the professional or an admin deletes it (audited ABSENCE_CANCELLED) and they are back at once; an unknown id or someone else\'s is NOT_FOUND and changes nothing', async () => {
    const pro = await env.world.professional('Cancel Pro');
    const colleague = await env.world.professional('Cancel Colleague');
    const pat = await env.world.patient('Cancel Pat');
    const now = await record(pro, fromNow(-MINUTE), fromNow(DAY), 'Flu');
    const upcoming = await record(pro, fromNow(2 * DAY), fromNow(3 * DAY));
    expect((await me(pro)).awayUntil).toBe(now.endsAt);

    for (const [who, id] of [
      [colleague, now.id],
      [pat, now.id],
      [pro, UNKNOWN_ID],
      [pro, 'not-an-id'],
    ] as const) {
      const error = await failure(env.server.url, CANCEL, { id }, who.token);
      expect([error.extensions?.code, error.message]).toEqual(['NOT_FOUND', 'Absence not found']);
    }
    expect(await me(pro)).toEqual({ awayUntil: now.endsAt, absences: [now, upcoming] });

    expect(await env.world.as(pro, CANCEL, { id: now.id })).toEqual({ cancelAbsence: true });
    expect(await me(pro)).toEqual({ awayUntil: null, absences: [upcoming] });
    expect(await env.world.as(env.world.admin, CANCEL, { id: upcoming.id })).toEqual({ cancelAbsence: true });
    expect(await me(pro)).toEqual({ awayUntil: null, absences: [] });
    expect((await failure(env.server.url, CANCEL, { id: now.id }, pro.token)).extensions?.code).toBe('NOT_FOUND');

    expect(await audited('ABSENCE_CANCELLED', pro)).toEqual([
      { action: 'ABSENCE_CANCELLED', actor: { id: pro.id }, subject: { id: pro.id }, outcome: 'SUCCESS' },
      { action: 'ABSENCE_CANCELLED', actor: { id: env.world.admin.id }, subject: { id: pro.id }, outcome: 'SUCCESS' },
    ]);
  });
});

describe('who is shown as away', () => {
  test('staff see awayUntil and the absences with their reasons; a patient sees awayUntil only, in the thread and in the drop-down, and never a reason', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Shown');
    const gp = await env.world.professional('Shown GP');
    await env.world.share(pat, gp);
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Is my appointment still on?');
    const leave = await record(a, fromNow(-HOUR), fromNow(3 * DAY), 'Surgery recovery');
    const gpLeave = await record(env.world.admin, fromNow(-MINUTE), fromNow(DAY), 'Conference abroad', gp);

    const staffView = await env.world.as(b, PARTICIPANTS, { t: threadId });
    const byId = (view: { thread: { participants: { user: { id: string } }[] } }) =>
      Object.fromEntries(view.thread.participants.map((p) => [p.user.id, p.user]));
    expect(byId(staffView)[a.id]).toEqual({ id: a.id, awayUntil: leave.endsAt, absences: [{ id: leave.id, reason: 'Surgery recovery', endsAt: leave.endsAt }] });
    expect(byId(staffView)[b.id]).toEqual({ id: b.id, awayUntil: null, absences: [] });

    const patientView = await env.world.as(pat, PARTICIPANTS, { t: threadId });
    expect(byId(patientView)[a.id]).toEqual({ id: a.id, awayUntil: leave.endsAt, absences: null });
    expect(byId(patientView)[b.id]).toEqual({ id: b.id, awayUntil: null, absences: null });

    const { recipients } = await env.world.as(pat, RECIPIENTS, { q: 'Shown' });
    const teamOption = recipients.find((r: { team?: { id: string } }) => r.team?.id === team.id);
    expect(teamOption.members).toContainEqual({ id: a.id, awayUntil: leave.endsAt, absences: null });
    const gpOption = recipients.find((r: { user?: { id: string } }) => r.user?.id === gp.id);
    expect(gpOption.user).toEqual({ id: gp.id, awayUntil: gpLeave.endsAt, absences: null });
    expect(await me(pat)).toEqual({ awayUntil: null, absences: null });
    for (const reason of ['Surgery recovery', 'Conference abroad']) {
      expect(JSON.stringify([patientView, recipients])).not.toContain(reason);
    }

    // Staff see the reasons in the drop-down too.
    const staffOptions = (await env.world.as(b, RECIPIENTS, { q: 'Shown' })).recipients;
    expect(staffOptions.find((r: { user?: { id: string } }) => r.user?.id === gp.id).user).toEqual({
      id: gp.id,
      awayUntil: gpLeave.endsAt,
      absences: [{ id: gpLeave.id, reason: 'Conference abroad' }],
    });
  });

  test('absences that overlap or touch are one stretch: awayUntil is its end; after a gap the next absence is listed but not yet away', async () => {
    const pro = await env.world.professional('Stretch Pro');
    // One reading of the time, so that "touching" is to the millisecond.
    const now = Date.now() + clock.offset;
    const at = (ms: number) => new Date(now + ms).toISOString();
    // Recorded out of order; listed by start.
    const touching = await record(pro, at(5 * HOUR), at(8 * HOUR), 'Course');
    const first = await record(pro, at(-HOUR), at(2 * HOUR), 'Sick');
    const afterGap = await record(pro, at(9 * HOUR), at(10 * HOUR), 'Dentist');
    const overlapping = await record(pro, at(HOUR), at(5 * HOUR), 'Still sick');
    expect(await me(pro)).toEqual({ awayUntil: touching.endsAt, absences: [first, overlapping, touching, afterGap] });

    // In the gap: not away, and what has ended is no longer listed.
    clock.advance(8 * HOUR + 30 * MINUTE);
    expect(await me(pro)).toEqual({ awayUntil: null, absences: [afterGap] });
    clock.advance(HOUR);
    expect(await me(pro)).toEqual({ awayUntil: afterGap.endsAt, absences: [afterGap] });
    clock.advance(HOUR);
    expect(await me(pro)).toEqual({ awayUntil: null, absences: [] });
  });

  test('an upcoming absence is listed but the professional is not away until it starts', async () => {
    const pro = await env.world.professional('Upcoming Pro');
    const upcoming = await record(pro, fromNow(DAY), fromNow(2 * DAY), 'Holiday');
    expect(await me(pro)).toEqual({ awayUntil: null, absences: [upcoming] });
    clock.advance(DAY - MINUTE);
    expect((await me(pro)).awayUntil).toBeNull();
    clock.advance(2 * MINUTE);
    expect(await me(pro)).toEqual({ awayUntil: upcoming.endsAt, absences: [upcoming] });
  });

  test('awayUntil and absences of every user in the drop-down come from one query', async () => {
    const people = await Promise.all([1, 2, 3, 4].map((i) => env.world.professional(`Batched ${i}`)));
    for (const [i, person] of people.entries()) await record(person, fromNow(-MINUTE), fromNow((i + 1) * HOUR), `Reason ${i}`);
    const caller = await env.world.professional('Batched Caller');

    statements.reset();
    const { recipients } = await env.world.as(caller, RECIPIENTS, { q: 'Batched' });
    // Only this request reads absences here (the escalation schedule's alert query does too, but nothing is due).
    const readAbsences = statements.statements.filter((sql) => sql.includes('absences"'));
    const shown = recipients.filter((r: { user?: { id: string } }) => people.some((p) => p.id === r.user?.id));
    expect(shown.map((r: { user: { awayUntil: string | null } }) => r.user.awayUntil)).toEqual([1, 2, 3, 4].map(() => expect.stringMatching(ISO_TIME)));
    expect(readAbsences).toHaveLength(1);
  });
});

describe('escalation and work while away', () => {
  test('an absent member is not alerted, nor listed as alerted, while the others are; they still get the inbox changes and messages, and are alerted again once the absence has ended', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Away alert');
    await limit(a, team, 60);
    const leave = await record(a, fromNow(-MINUTE), fromNow(2 * HOUR), 'On leave');
    // Away later, not now: still alerted.
    await record(b, fromNow(5 * HOUR), fromNow(6 * HOUR));
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'My wound is red', 'Wound');
    const [absent, present] = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    clock.advance(61 * MINUTE);
    await until(() => alerts(present, threadId).length === 1);
    await rounds();
    await settle(absent.client);
    expect(alerts(absent, threadId)).toEqual([]);
    expect(await alertedIds(threadId)).toEqual([ids(b)]);
    expect((await me(a)).awayUntil).toBe(leave.endsAt);

    // The absent member still hears of the team's work on the thread and of its messages.
    await env.world.as(b, ClaimThreadDocument, { threadId, teamId: team.id });
    await env.world.send(b, threadId, 'Please send a photo');
    await until(() => activities(absent, 'INBOX_CHANGED', threadId).length > 0 && activities(absent, 'MESSAGE_ADDED', threadId).length > 0);

    // The absence ends; the patient's next message starts a new wait, due at once by the moved clock.
    clock.advance(2 * HOUR);
    expect((await me(a)).awayUntil).toBeNull();
    await env.world.send(pat, threadId, 'Photo attached');
    await until(() => alerts(absent, threadId).length === 1 && alerts(present, threadId).length === 2);
    await rounds();
    for (const feed of [absent, present]) {
      await settle(feed.client);
      expect(feed.errors).toEqual([]);
    }
    expect([alerts(absent, threadId).length, alerts(present, threadId).length]).toEqual([1, 2]);
    expect(await alertedIds(threadId)).toEqual([ids(b), ids(a, b)]);
  });

  test('when every member in the thread is away, the alert waits for the first of them to come back, instead of reaching nobody', async () => {
    const { a, b, team, pat } = await env.world.careTeam('All away');
    await limit(a, team, 60);
    const first = await record(a, fromNow(-MINUTE), fromNow(3 * HOUR));
    await record(b, fromNow(-MINUTE), fromNow(5 * HOUR));
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Nobody answers', 'Alone');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);

    clock.advance(61 * MINUTE);
    await rounds();
    for (const feed of feeds) await settle(feed.client);
    expect(feeds.map((feed) => alerts(feed, threadId).length)).toEqual([0, 0]);
    expect(await alertedIds(threadId)).toEqual([]);
    const { teamInbox } = await env.world.as(b, INBOX, { t: team.id });
    const item = teamInbox.edges.find((e: { node: { threadId: string } }) => e.node.threadId === threadId).node;
    // Due again when a comes back (the earlier of the two returns).
    expect(item.escalationDueAt).toBe(first.endsAt);

    clock.advance(2 * HOUR);
    await until(() => alerts(feeds[0], threadId).length === 1);
    await rounds();
    for (const feed of feeds) await settle(feed.client);
    expect(feeds.map((feed) => alerts(feed, threadId).length)).toEqual([1, 0]);
    expect(await alertedIds(threadId)).toEqual([ids(a)]);
  });

  test('an alert held back while every member in the thread is away comes as soon as one of them cancels their absence, not when it would have ended', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Back early');
    await limit(a, team, 60);
    const leave = await record(a, fromNow(-MINUTE), fromNow(14 * DAY));
    await record(b, fromNow(-MINUTE), fromNow(15 * DAY));
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Nobody answers', 'Back early');
    const feeds = [dashboard(a), dashboard(b)];
    await untilDashboards(env.server, 2);
    clock.advance(61 * MINUTE);
    await rounds();
    expect(await escalationDueAt(b, team, threadId)).toBe(leave.endsAt);

    await env.world.as(a, CANCEL, { id: leave.id });
    await rounds();
    expect(await alertedIds(threadId)).toEqual([ids(a)]);
    await until(() => alerts(feeds[0], threadId).length === 1);
    for (const feed of feeds) await settle(feed.client);
    expect(feeds.map((feed) => alerts(feed, threadId).length)).toEqual([1, 0]);
    expect(await escalationDueAt(b, team, threadId)).toBeNull();
  });

  test('an alert held back while every member in the thread is away comes as soon as a member who is present joins the team, and so the thread', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Newcomer');
    await limit(a, team, 60);
    const leave = await record(a, fromNow(-MINUTE), fromNow(7 * DAY));
    await record(b, fromNow(-MINUTE), fromNow(8 * DAY));
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Nobody answers', 'Newcomer');
    clock.advance(61 * MINUTE);
    await rounds();
    expect(await escalationDueAt(b, team, threadId)).toBe(leave.endsAt);

    const c = await env.world.professional('Newcomer Dr C');
    const newcomer = dashboard(c);
    await untilDashboards(env.server, 1);
    await env.world.addMember(team, c);
    await rounds();
    expect(await alertedIds(threadId)).toEqual([ids(c)]);
    await until(() => alerts(newcomer, threadId).length === 1);
    expect(await escalationDueAt(c, team, threadId)).toBeNull();
  });

  test('an absent member can still read the thread, mark it read and reply; the patient gets the reply with awayUntil and no reason', async () => {
    const { a, team, pat } = await env.world.careTeam('Away reply');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Can I stop the tablets?');
    const leave = await record(a, fromNow(-HOUR), fromNow(DAY), 'Private matter');
    const patientFeed = dashboard(pat);
    await untilDashboards(env.server, 1);

    const { thread } = await env.world.as(a, MESSAGES, { t: threadId });
    expect(thread.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['Can I stop the tablets?']);
    await env.world.as(a, MarkThreadReadDocument, { threadId });
    const { sendMessage } = await env.world.as(a, SendMessageDocument, { threadId, body: 'Keep taking them until we speak' });
    expect(sendMessage.body).toBe('Keep taking them until we speak');

    await until(() => activities(patientFeed, 'MESSAGE_ADDED', threadId).some((m) => m.message?.author.id === a.id));
    const reply = activities(patientFeed, 'MESSAGE_ADDED', threadId).find((m) => m.message?.author.id === a.id)!;
    expect(reply.message).toEqual({ body: 'Keep taking them until we speak', author: { id: a.id, awayUntil: leave.endsAt, absences: null } });
    expect(JSON.stringify(patientFeed.received)).not.toContain('Private matter');
    // A reply while away is a reply: the patient no longer waits.
    const { teamInbox } = await env.world.as(a, INBOX, { t: team.id });
    expect(teamInbox.edges.find((e: { node: { threadId: string } }) => e.node.threadId === threadId).node).toMatchObject({ waitingSince: null });
  });
});
