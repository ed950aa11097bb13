import { AuditEvent } from '../src/modules/audit/audit-event.entity';
import { codes } from './support/graphql';
import { asRecipient, useWorld, type Person } from './support/world';
import { LeaveThreadDocument, SendMessageDocument } from '../web/gql/graphql';

const env = useWorld();

interface TrailEvent {
  id: string;
  at: string;
  actor: { id: string };
  action: string;
  threadId: string | null;
  messageId: string | null;
  subject: { id: string } | null;
}

const TRAIL = `query($t: ID!) { auditTrail(threadId: $t) { id at actor { id } action threadId messageId subject { id } } }`;
const ADD = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`;
const MARK = `mutation($t: ID!) { markThreadRead(threadId: $t) { id } }`;

let teamCounter = 0;
const team = (name: string, flags: { autoCc?: boolean; members?: Person[] } = {}) => env.world.team(`${name} ${++teamCounter}`, flags);

/** The trail as the admin reads it, leaving out the AUDIT_TRAIL_READ events that reading it adds. */
async function trail(threadId: string, as: Person = env.world.admin): Promise<TrailEvent[]> {
  const events: TrailEvent[] = (await env.world.as(as, TRAIL, { t: threadId })).auditTrail;
  return events.filter((e) => e.action !== 'AUDIT_TRAIL_READ');
}

/** Compact form for comparing sequences: action, actor and subject. */
const brief = (events: TrailEvent[]) => events.map((e) => ({ action: e.action, actor: e.actor.id, subject: e.subject?.id ?? null }));

const send = async (who: Person, threadId: string, body: string, clientMessageId?: string): Promise<string> =>
  (await env.world.as(who, SendMessageDocument, { threadId, body, clientMessageId: clientMessageId ?? null })).sendMessage.id;

async function firstMessageId(threadId: string, who: Person): Promise<string> {
  const { thread } = await env.world.as(who, `query($t: ID!) { thread(id: $t) { messages(first: 1) { edges { node { id } } } } }`, { t: threadId });
  return thread.messages.edges[0].node.id;
}

/** Every row of the audit table, straight from the database. */
const allRows = () => env.server.app.db.getRepository(AuditEvent).find({ order: { id: 'ASC' } });

describe('every state change writes an audit event naming the individual actor', () => {
  test('createThread: THREAD_CREATED, PARTICIPANT_ADDED for each added user including every team member, MESSAGE_SENT', async () => {
    const a = await env.world.professional('Team A');
    const b = await env.world.professional('Team B');
    const off = await env.world.professional('Team off', { contactable: false });
    const direct = await env.world.professional('Direct');
    const t = await team('Audited', { autoCc: true, members: [a, b, off] });
    const pat = await env.world.patient('Patient');
    await env.world.share(pat, t);
    await env.world.share(pat, direct);
    const threadId = await env.world.thread(pat, [asRecipient(t), asRecipient(direct)]);

    const events = await trail(threadId);
    expect(events.every((e) => e.threadId === threadId && e.actor.id === pat.id)).toBe(true);
    expect(events[0]).toMatchObject({ action: 'THREAD_CREATED', subject: null, messageId: null });
    const added = events.filter((e) => e.action === 'PARTICIPANT_ADDED');
    expect(added.map((e) => e.subject?.id).sort()).toEqual([a.id, b.id, direct.id].sort());
    expect(added.every((e) => e.messageId === null)).toBe(true);
    const sent = events.filter((e) => e.action === 'MESSAGE_SENT');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ messageId: await firstMessageId(threadId, pat), subject: null });
    expect(events.map((e) => e.action)).toEqual(['THREAD_CREATED', ...added.map(() => 'PARTICIPANT_ADDED'), 'MESSAGE_SENT']);
  });

  test('addParticipants: PARTICIPANT_ADDED naming the adder and, as subject, each user added (each team member)', async () => {
    const author = await env.world.professional('Author');
    const adder = await env.world.professional('Adder');
    const already = await env.world.professional('Already in');
    const a = await env.world.professional('Team A');
    const b = await env.world.professional('Team B');
    const t = await team('Added later', { autoCc: true, members: [already, a, b] });
    const threadId = await env.world.thread(author, [asRecipient(adder)]);
    await env.world.as(adder, ADD, { t: threadId, r: [asRecipient(t)] });
    const before = (await trail(threadId)).length;
    // Re-picking the team adds nobody, so it writes nothing either.
    await env.world.as(author, ADD, { t: threadId, r: [asRecipient(t)] });
    const events = await trail(threadId);
    expect(events).toHaveLength(before);

    const adds = events.filter((e) => e.action === 'PARTICIPANT_ADDED' && e.actor.id === adder.id);
    expect(adds.map((e) => e.subject?.id).sort()).toEqual([already.id, a.id, b.id].sort());
    expect(adds.every((e) => e.threadId === threadId)).toBe(true);
  });

  test('sendMessage: MESSAGE_SENT with the message id and the sender as actor; a retry writes nothing more', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    const messageId = await send(b, threadId, 'reply', 'retry-key');
    expect(await send(b, threadId, 'reply', 'retry-key')).toBe(messageId);
    const sent = (await trail(threadId)).filter((e) => e.action === 'MESSAGE_SENT');
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ actor: { id: b.id }, messageId, threadId, subject: null });
    expect(sent[0].actor.id).toBe(author.id);
    expect(sent[0].messageId).not.toBe(messageId);
  });

  test('leaveThread: PARTICIPANT_LEFT naming the one who left, as actor and subject', async () => {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('Leaver');
    const b = await env.world.professional('Stayer');
    const t = await team('Leaving', { autoCc: true, members: [a, b] });
    const threadId = await env.world.thread(author, [asRecipient(t)]);
    await env.world.as(a, LeaveThreadDocument, { threadId });
    const events = await trail(threadId, b);
    expect(brief(events.slice(-1))).toEqual([{ action: 'PARTICIPANT_LEFT', actor: a.id, subject: a.id }]);
    expect(events.filter((e) => e.action === 'PARTICIPANT_LEFT')).toHaveLength(1);
  });

  test('markThreadRead: THREAD_MARKED_READ naming the reader', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    await env.world.as(b, MARK, { t: threadId });
    const events = await trail(threadId);
    expect(brief(events.slice(-1))).toEqual([{ action: 'THREAD_MARKED_READ', actor: b.id, subject: null }]);
    expect(events[events.length - 1].threadId).toBe(threadId);
  });

  test('setTeamAutoCc: TEAM_AUTO_CC_CHANGED naming the admin, recorded against the team', async () => {
    const member = await env.world.professional('Member');
    const t = await team('Switching', { autoCc: false, members: [member] });
    const otherAdmin = await env.world.professional('Second admin', { isAdmin: true });
    const changes = () => env.server.app.db.getRepository(AuditEvent).find({ where: { action: 'TEAM_AUTO_CC_CHANGED' as AuditEvent['action'], teamId: t.id }, order: { id: 'ASC' } });
    expect(await changes()).toEqual([]);

    await env.world.setAutoCc(t, true);
    await env.world.as(otherAdmin, `mutation($t: ID!) { setTeamAutoCc(teamId: $t, enabled: false) { id } }`, { t: t.id });
    const rows = await changes();
    expect(rows.map((r) => r.actorId)).toEqual([env.world.admin.id, otherAdmin.id]);
    expect(rows.every((r) => r.threadId === null)).toBe(true);
  });

  test('team, user, contactable and care-network changes are recorded naming the actor', async () => {
    const start = (await allRows()).length;
    const pro = await env.world.professional('Pro');
    const t = await team('Admin work', { members: [pro] });
    await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: t.id, u: pro.id });
    await env.world.as(pro, `mutation($u: ID!) { setContactable(userId: $u, contactable: false) { id } }`, { u: pro.id });
    const pat = await env.world.patient('Sharer');
    await env.world.setContactable(pro, true);
    await env.world.share(pat, pro);

    const rows = (await allRows()).slice(start);
    const seen = rows.map((r) => ({ action: r.action, actor: r.actorId, subject: r.subjectUserId, team: r.teamId }));
    expect(seen).toEqual([
      { action: 'USER_CREATED', actor: env.world.admin.id, subject: pro.id, team: null },
      { action: 'TEAM_CREATED', actor: env.world.admin.id, subject: null, team: t.id },
      { action: 'TEAM_MEMBER_ADDED', actor: env.world.admin.id, subject: pro.id, team: t.id },
      { action: 'TEAM_MEMBER_REMOVED', actor: env.world.admin.id, subject: pro.id, team: t.id },
      { action: 'CONTACTABLE_CHANGED', actor: pro.id, subject: pro.id, team: null },
      { action: 'USER_CREATED', actor: env.world.admin.id, subject: pat.id, team: null },
      { action: 'CONTACTABLE_CHANGED', actor: env.world.admin.id, subject: pro.id, team: null },
      { action: 'RECORD_SHARED', actor: pat.id, subject: pro.id, team: null },
    ]);
  });
});

describe('reading a thread\'s messages writes THREAD_READ with the reader as actor', () => {
  const reads = async (threadId: string) => (await trail(threadId)).filter((e) => e.action === 'THREAD_READ');

  test('thread.messages', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('Reader');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    expect(await reads(threadId)).toEqual([]);
    await env.world.as(b, `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`, { t: threadId });
    expect(brief(await reads(threadId))).toEqual([{ action: 'THREAD_READ', actor: b.id, subject: null }]);
    await env.world.as(author, `query($t: ID!) { thread(id: $t) { messages(first: 1) { edges { node { body } } } } }`, { t: threadId });
    expect((await reads(threadId)).map((e) => e.actor.id)).toEqual([b.id, author.id]);
  });

  test('thread.lastMessage, also through the threads list', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('Reader');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    await env.world.as(b, `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`, { t: threadId });
    expect((await reads(threadId)).map((e) => e.actor.id)).toEqual([b.id]);
    const other = await env.world.thread(author, [asRecipient(b)]);
    await env.world.as(b, `{ threads { edges { node { lastMessage { body } } } } }`);
    expect((await reads(threadId)).map((e) => e.actor.id)).toEqual([b.id, b.id]);
    expect((await reads(other)).map((e) => e.actor.id)).toEqual([b.id]);
  });

  test('a refused read records the attempt as DENIED, with why, and no read', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const outsider = await env.world.professional('Outsider');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    const before = await trail(threadId);
    await codes(env.server.url, `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`, { t: threadId }, outsider.token);
    const after: (TrailEvent & { outcome?: string })[] = (
      await env.world.as(env.world.admin, `query($t: ID!) { auditTrail(threadId: $t) { id action outcome reason actor { id } } }`, { t: threadId })
    ).auditTrail.filter((e: { action: string }) => e.action !== 'AUDIT_TRAIL_READ');
    expect(after.slice(0, before.length).map((e) => e.id)).toEqual(before.map((e) => e.id));
    expect(after.slice(before.length)).toEqual([
      { id: expect.any(String), action: 'THREAD_READ', outcome: 'DENIED', reason: 'NOT_FOUND: Thread not found', actor: { id: outsider.id } },
    ]);
  });
});

test('the trail is oldest first', async () => {
  const author = await env.world.professional('Author');
  const b = await env.world.professional('B');
  const c = await env.world.professional('C');
  const threadId = await env.world.thread(author, [asRecipient(b)]);
  await send(b, threadId, 'reply');
  await env.world.as(b, ADD, { t: threadId, r: [asRecipient(c)] });
  await env.world.as(c, MARK, { t: threadId });
  await env.world.as(c, `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`, { t: threadId });
  await env.world.as(b, LeaveThreadDocument, { threadId });

  const events = await trail(threadId, author);
  expect(brief(events)).toEqual([
    { action: 'THREAD_CREATED', actor: author.id, subject: null },
    { action: 'PARTICIPANT_ADDED', actor: author.id, subject: b.id },
    { action: 'MESSAGE_SENT', actor: author.id, subject: null },
    { action: 'MESSAGE_SENT', actor: b.id, subject: null },
    { action: 'PARTICIPANT_ADDED', actor: b.id, subject: c.id },
    { action: 'THREAD_MARKED_READ', actor: c.id, subject: null },
    { action: 'THREAD_READ', actor: c.id, subject: null },
    { action: 'PARTICIPANT_LEFT', actor: b.id, subject: b.id },
  ]);
  const times = events.map((e) => Date.parse(e.at));
  expect(times).toEqual([...times].sort((x, y) => x - y));
});

describe('who may read the audit trail', () => {
  async function privateThread() {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const threadId = await env.world.thread(author, [asRecipient(b)]);
    return { author, b, threadId };
  }

  test('participants and admins who are not participants can read it', async () => {
    const { author, b, threadId } = await privateThread();
    const otherAdmin = await env.world.professional('Other admin', { isAdmin: true, contactable: false });
    const asAuthor = await trail(threadId, author);
    expect(asAuthor.length).toBeGreaterThan(0);
    expect(await trail(threadId, b)).toEqual(asAuthor);
    expect(await trail(threadId, env.world.admin)).toEqual(asAuthor);
    expect(await trail(threadId, otherAdmin)).toEqual(asAuthor);
    // Reading the trail is not reading the thread: the admin still cannot open it.
    expect(await codes(env.server.url, `query($t: ID!) { thread(id: $t) { id } }`, { t: threadId }, otherAdmin.token)).toEqual(['NOT_FOUND']);
  });

  test('non-participant professionals and patients get NOT_FOUND, as do those who left', async () => {
    const { author, threadId } = await privateThread();
    const leaver = await env.world.professional('Leaver');
    await env.world.as(author, ADD, { t: threadId, r: [asRecipient(leaver)] });
    await env.world.as(leaver, LeaveThreadDocument, { threadId });
    const patient = await env.world.patient('Patient');
    const outsider = await env.world.professional('Outsider');
    for (const who of [outsider, patient, leaver]) {
      expect(await codes(env.server.url, TRAIL, { t: threadId }, who.token)).toEqual(['NOT_FOUND']);
    }
    expect(await codes(env.server.url, TRAIL, { t: threadId })).toEqual(['UNAUTHENTICATED']);
  });

  test('for a thread that does not exist, admins get NOT_FOUND too', async () => {
    expect(await codes(env.server.url, TRAIL, { t: '00000000-0000-4000-8000-000000000000' }, env.world.admin.token)).toEqual(['NOT_FOUND']);
  });
});

test('audit events are never updated or deleted', async () => {
  const before = await allRows();
  const author = await env.world.professional('Author');
  const a = await env.world.professional('Team A');
  const b = await env.world.professional('Team B');
  const t = await team('Kept', { autoCc: true, members: [a, b] });
  const threadId = await env.world.thread(author, [asRecipient(t)]);
  await send(a, threadId, 'reply');
  await env.world.as(b, MARK, { t: threadId });
  const trailBefore = await trail(threadId);
  const rowsBefore = await allRows();

  await env.world.as(a, LeaveThreadDocument, { threadId });
  await env.world.as(b, LeaveThreadDocument, { threadId });
  await env.world.as(author, ADD, { t: threadId, r: [asRecipient(t)] });
  // Below the default minimum of 2 contactable members: the admin lowers it first.
  await env.world.setCoverageMinimum(t, 0);
  await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: t.id, u: b.id });
  await env.world.setContactable(a, false);
  await env.world.setAutoCc(t, false);
  await env.world.as(author, LeaveThreadDocument, { threadId });

  const trailAfter = await trail(threadId);
  expect(trailAfter.slice(0, trailBefore.length)).toEqual(trailBefore);
  expect(brief(trailAfter.slice(trailBefore.length))).toEqual([
    { action: 'PARTICIPANT_LEFT', actor: a.id, subject: a.id },
    { action: 'PARTICIPANT_LEFT', actor: b.id, subject: b.id },
    { action: 'PARTICIPANT_ADDED', actor: author.id, subject: a.id },
    { action: 'PARTICIPANT_ADDED', actor: author.id, subject: b.id },
    // Off the team b was in the thread through.
    { action: 'PARTICIPANT_REMOVED', actor: env.world.admin.id, subject: b.id },
    { action: 'PARTICIPANT_LEFT', actor: author.id, subject: author.id },
  ]);

  const rowsAfter = await allRows();
  // The seal (place in the chain, hashes) comes once, shortly after the commit; the rest never changes, nor a seal once set.
  const content = (rows: AuditEvent[]) => rows.map(({ chainSeq: _, prevHash: __, hash: ___, ...written }) => written);
  const seals = (rows: AuditEvent[]) => rows.filter((r) => r.chainSeq !== null).map((r) => [r.id, r.chainSeq, r.prevHash, r.hash]);
  expect(content(rowsAfter.slice(0, rowsBefore.length))).toEqual(content(rowsBefore));
  expect(content(rowsAfter.slice(0, before.length))).toEqual(content(before));
  expect(seals(rowsAfter)).toEqual(expect.arrayContaining([...seals(before), ...seals(rowsBefore)]));
  expect(rowsAfter.length).toBeGreaterThan(rowsBefore.length);
});
