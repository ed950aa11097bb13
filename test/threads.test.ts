import { In } from 'typeorm';
import { Thread } from '../src/modules/threads/thread.entity';
import { codes, gql, type Operation } from './support/graphql';
import { asRecipient, useWorld, type Person } from './support/world';
import { AddParticipantsDocument, CreateThreadDocument, LeaveThreadDocument, MarkThreadReadDocument, SendMessageDocument } from '../web/gql/graphql';

const env = useWorld();

interface ParticipantView {
  user: { id: string };
  joinedAt: string;
  addedBy: { id: string } | null;
  viaTeam: { id: string } | null;
}

interface ThreadView {
  id: string;
  subject: string;
  createdBy: { id: string };
  teams: { id: string }[];
  participants: ParticipantView[];
}

const THREAD = `id subject createdBy { id } teams { id } participants { user { id } joinedAt addedBy { id } viaTeam { id } }`;
const ADD = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { ${THREAD} } }`;

let teamCounter = 0;
/** Team names are unique, so every test gets its own. */
const team = (name: string, flags: { autoCc?: boolean; members?: Person[] } = {}) => env.world.team(`${name} ${++teamCounter}`, flags);

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function readThread(who: Person, id: string): Promise<ThreadView> {
  return (await env.world.as(who, `query($id: ID!) { thread(id: $id) { ${THREAD} } }`, { id })).thread;
}

/** Every thread id in the caller's inbox, in the server's order. */
async function inbox(who: Person): Promise<string[]> {
  const { threads } = await env.world.as(who, `{ threads(first: 100) { edges { node { id } } pageInfo { hasNextPage } } }`);
  expect(threads.pageInfo.hasNextPage).toBe(false);
  return threads.edges.map((e: { node: { id: string } }) => e.node.id);
}

async function messageBodies(who: Person, threadId: string): Promise<{ id: string; body: string }[]> {
  const { thread } = await env.world.as(who, `query($id: ID!) { thread(id: $id) { messages(first: 100) { edges { node { id body } } } } }`, {
    id: threadId,
  });
  return thread.messages.edges.map((e: { node: { id: string; body: string } }) => e.node);
}

const userIds = (thread: ThreadView) => thread.participants.map((p) => p.user.id).sort();
const participant = (thread: ThreadView, person: Person) => thread.participants.find((p) => p.user.id === person.id);
const sorted = (...people: Person[]) => people.map((p) => p.id).sort();

function send(who: Person, threadId: string, body: string, clientMessageId?: string) {
  return env.world.as(who, SendMessageDocument, { threadId, body, clientMessageId: clientMessageId ?? null }).then((d) => d.sendMessage);
}

describe('createThread needs at least one recipient, a subject and a body', () => {
  /** Sends a createThread that must fail with BAD_USER_INPUT, and checks that no inbox involved changed. */
  async function refusedWithoutTrace(subject: string, body: string, recipients: Person[]) {
    const author = await env.world.professional('Author');
    const earlier = await env.world.professional('Earlier');
    await env.world.thread(author, [asRecipient(earlier)]);
    const involved = [author, earlier, ...recipients];
    const before = await Promise.all(involved.map(inbox));
    const result = await gql(env.server.url, CreateThreadDocument, { subject, body, recipients: recipients.map(asRecipient) }, author.token);
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0].message).toBeTruthy();
    expect(await Promise.all(involved.map(inbox))).toEqual(before);
  }

  test('an empty recipient list is BAD_USER_INPUT and creates nothing', async () => {
    await refusedWithoutTrace('Subject', 'Body', []);
  });

  test('a blank subject is BAD_USER_INPUT and creates nothing', async () => {
    const colleague = await env.world.professional('Colleague');
    await refusedWithoutTrace('   ', 'Body', [colleague]);
    await refusedWithoutTrace('', 'Body', [colleague]);
  });

  test('a blank body is BAD_USER_INPUT and creates nothing', async () => {
    const colleague = await env.world.professional('Colleague');
    await refusedWithoutTrace('Subject', ' \n\t ', [colleague]);
    await refusedWithoutTrace('Subject', '', [colleague]);
  });

  test('a subject over 200 characters is BAD_USER_INPUT and creates nothing; 200 is accepted', async () => {
    const colleague = await env.world.professional('Colleague');
    await refusedWithoutTrace('s'.repeat(201), 'Body', [colleague]);
    const author = await env.world.professional('Author');
    const id = await env.world.thread(author, [asRecipient(colleague)], 'Body', 's'.repeat(200));
    expect((await readThread(author, id)).subject).toBe('s'.repeat(200));
  });

  test('a body over 10000 characters is BAD_USER_INPUT and creates nothing; 10000 is accepted', async () => {
    const colleague = await env.world.professional('Colleague');
    await refusedWithoutTrace('Subject', 'b'.repeat(10_001), [colleague]);
    const author = await env.world.professional('Author');
    const id = await env.world.thread(author, [asRecipient(colleague)], 'b'.repeat(10_000));
    expect((await messageBodies(author, id)).map((m) => m.body)).toEqual(['b'.repeat(10_000)]);
  });

  test('a refused recipient next to a valid one leaves no half-made thread', async () => {
    const valid = await env.world.professional('Valid');
    const hidden = await env.world.professional('Hidden', { contactable: false });
    await refusedWithoutTrace('Subject', 'Body', [valid, hidden]);
  });
});

describe('createThread makes the caller and every resolved recipient participants', () => {
  test('the caller and every picked professional become participants', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const c = await env.world.professional('C');
    const id = await env.world.thread(author, [asRecipient(b), asRecipient(c)]);
    const thread = await readThread(author, id);
    expect(userIds(thread)).toEqual(sorted(author, b, c));
    expect(thread.createdBy.id).toBe(author.id);
    for (const person of [author, b, c]) expect(await inbox(person)).toEqual([id]);
  });

  test('picking a team adds its contactable members with viaTeam set and records the team in thread.teams', async () => {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('Member A');
    const b = await env.world.professional('Member B');
    const off = await env.world.professional('Not contactable', { contactable: false });
    const direct = await env.world.professional('Direct');
    const cardio = await team('Cardio', { autoCc: true, members: [a, b, off] });
    const id = await env.world.thread(author, [asRecipient(cardio), asRecipient(direct)]);
    const thread = await readThread(author, id);
    expect(userIds(thread)).toEqual(sorted(author, a, b, direct));
    expect(participant(thread, a)?.viaTeam).toEqual({ id: cardio.id });
    expect(participant(thread, b)?.viaTeam).toEqual({ id: cardio.id });
    expect(participant(thread, direct)?.viaTeam).toBeNull();
    expect(participant(thread, author)?.viaTeam).toBeNull();
    expect(thread.teams).toEqual([{ id: cardio.id }]);
    expect(await codes(env.server.url, `query($id: ID!) { thread(id: $id) { id } }`, { id }, off.token)).toEqual(['NOT_FOUND']);
  });

  test('a patient picking a team they shared with reaches every contactable member', async () => {
    const a = await env.world.professional('Member A');
    const b = await env.world.professional('Member B');
    const diabetes = await team('Diabetes', { autoCc: true, members: [a, b] });
    const pat = await env.world.patient('Pat');
    await env.world.share(pat, diabetes);
    const id = await env.world.thread(pat, [asRecipient(diabetes)]);
    const thread = await readThread(a, id);
    expect(userIds(thread)).toEqual(sorted(pat, a, b));
    expect(thread.teams).toEqual([{ id: diabetes.id }]);
  });

  test('the first message is the body', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)], 'Please review the labs', 'Labs');
    const { thread } = await env.world.as(b, `query($id: ID!) { thread(id: $id) { subject messages { edges { node { body author { id } } } } } }`, { id });
    expect(thread.subject).toBe('Labs');
    expect(thread.messages.edges).toEqual([{ node: { body: 'Please review the labs', author: { id: author.id } } }]);
  });

  test('nobody is added twice: two picked teams that share a member', async () => {
    const author = await env.world.professional('Author');
    const shared = await env.world.professional('Shared');
    const a = await env.world.professional('A');
    const b = await env.world.professional('B');
    const t1 = await team('Wards', { autoCc: true, members: [shared, a] });
    const t2 = await team('Nights', { autoCc: true, members: [shared, b] });
    const id = await env.world.thread(author, [asRecipient(t1), asRecipient(t2)]);
    const thread = await readThread(author, id);
    expect(userIds(thread)).toEqual(sorted(author, shared, a, b));
    expect(thread.participants.filter((p) => p.user.id === shared.id)).toHaveLength(1);
    expect([t1.id, t2.id]).toContain(participant(thread, shared)?.viaTeam?.id);
    expect(thread.teams.map((t) => t.id).sort()).toEqual([t1.id, t2.id].sort());
  });

  test('nobody is added twice: the same user picked twice', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b), asRecipient(b)]);
    expect((await readThread(author, id)).participants.map((p) => p.user.id).sort()).toEqual(sorted(author, b));
  });

  test('nobody is added twice: the same team picked twice', async () => {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('A');
    const t = await team('Twice', { autoCc: true, members: [a] });
    const id = await env.world.thread(author, [asRecipient(t), asRecipient(t)]);
    const thread = await readThread(author, id);
    expect(thread.participants.map((p) => p.user.id).sort()).toEqual(sorted(author, a));
    expect(thread.teams).toEqual([{ id: t.id }]);
  });

  test('nobody is added twice: a creator who is a member of the team they pick stays the creator', async () => {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('A');
    const t = await team('Own team', { autoCc: true, members: [author, a] });
    const id = await env.world.thread(author, [asRecipient(t)]);
    const thread = await readThread(author, id);
    expect(thread.participants.map((p) => p.user.id).sort()).toEqual(sorted(author, a));
    expect(participant(thread, author)).toMatchObject({ addedBy: null, viaTeam: null });
  });

  test('addedBy is null for the creator and the creator for everyone else', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const a = await env.world.professional('A');
    const t = await team('Added by', { autoCc: true, members: [a] });
    const id = await env.world.thread(author, [asRecipient(b), asRecipient(t)]);
    const thread = await readThread(author, id);
    expect(participant(thread, author)?.addedBy).toBeNull();
    expect(participant(thread, b)?.addedBy).toEqual({ id: author.id });
    expect(participant(thread, a)?.addedBy).toEqual({ id: author.id });
  });
});

describe('addParticipants', () => {
  test('adds the resolved recipients, with the adder as addedBy and the team as viaTeam', async () => {
    const author = await env.world.professional('Author');
    const adder = await env.world.professional('Adder');
    const newcomer = await env.world.professional('Newcomer');
    const a = await env.world.professional('Team A');
    const off = await env.world.professional('Team off', { contactable: false });
    const t = await team('Joiners', { autoCc: true, members: [a, off] });
    const id = await env.world.thread(author, [asRecipient(adder)]);
    const { addParticipants: thread } = (await env.world.as(adder, ADD, { t: id, r: [asRecipient(newcomer), asRecipient(t)] })) as {
      addParticipants: ThreadView;
    };
    expect(userIds(thread)).toEqual(sorted(author, adder, newcomer, a));
    expect(participant(thread, newcomer)).toMatchObject({ addedBy: { id: adder.id }, viaTeam: null });
    expect(participant(thread, a)).toMatchObject({ addedBy: { id: adder.id }, viaTeam: { id: t.id } });
    expect(thread.teams).toEqual([{ id: t.id }]);
    expect(await inbox(newcomer)).toEqual([id]);
    expect(await inbox(a)).toEqual([id]);
  });

  test('current participants stay as they are and are not duplicated', async () => {
    const author = await env.world.professional('Author');
    const direct = await env.world.professional('Direct');
    const shared = await env.world.professional('Shared');
    const fresh = await env.world.professional('Fresh');
    const first = await team('First', { autoCc: true, members: [shared] });
    const second = await team('Second', { autoCc: true, members: [shared, fresh] });
    const id = await env.world.thread(author, [asRecipient(direct), asRecipient(first)]);
    const before = await readThread(author, id);
    await tick();

    // `direct` adds a team that contains an existing participant, and re-picks an existing participant.
    const { addParticipants: after } = (await env.world.as(direct, ADD, { t: id, r: [asRecipient(second), asRecipient(author)] })) as {
      addParticipants: ThreadView;
    };
    expect(userIds(after)).toEqual(sorted(author, direct, shared, fresh));
    for (const kept of before.participants) {
      expect(after.participants.filter((p) => p.user.id === kept.user.id)).toEqual([kept]);
    }
    expect(participant(after, shared)).toEqual(participant(before, shared));
    expect(participant(after, shared)?.viaTeam).toEqual({ id: first.id });
    expect(participant(after, fresh)).toMatchObject({ addedBy: { id: direct.id }, viaTeam: { id: second.id } });
    expect(await readThread(fresh, id)).toEqual(after);
  });

  test('picking only people who are already participants changes nothing and is not an error', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const a = await env.world.professional('A');
    const t = await team('All in', { autoCc: true, members: [a] });
    const id = await env.world.thread(author, [asRecipient(b), asRecipient(t)]);
    const before = await readThread(author, id);
    const { addParticipants } = await env.world.as(b, ADD, { t: id, r: [asRecipient(author), asRecipient(t)] });
    expect(addParticipants).toEqual(before);
    expect(await readThread(author, id)).toEqual(before);
  });
});

describe('when a team turns auto-CC on, threads that already exist do not change', () => {
  test('a member who is a participant stays one; other members are not added', async () => {
    const author = await env.world.professional('Author');
    const inThread = await env.world.professional('In thread');
    const outside = await env.world.professional('Outside');
    const t = await team('Later auto-CC', { autoCc: false, members: [inThread, outside] });
    const id = await env.world.thread(author, [asRecipient(inThread)]);
    const before = await readThread(author, id);

    await env.world.setAutoCc(t, true);

    const after = await readThread(author, id);
    expect(after).toEqual(before);
    expect(userIds(after)).toEqual(sorted(author, inThread));
    expect(after.teams).toEqual([]);
    expect(await readThread(inThread, id)).toEqual(before);
    expect(await inbox(outside)).toEqual([]);
    expect(await codes(env.server.url, `query($id: ID!) { thread(id: $id) { id } }`, { id }, outside.token)).toEqual(['NOT_FOUND']);
    // The member who stayed still takes part.
    await send(inThread, id, 'still here');
    expect((await messageBodies(author, id)).map((m) => m.body)).toEqual(['Hello', 'still here']);
  });

  test('a member added while auto-CC was off is not caught up into the threads picked through the team when it is back on', async () => {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('Member A');
    const b = await env.world.professional('Member B');
    const late = await env.world.professional('Joined while off');
    const t = await team('Off and on again', { autoCc: true, members: [a, b] });
    const id = await env.world.thread(author, [asRecipient(t)]);
    const before = await readThread(author, id);

    await env.world.setAutoCc(t, false);
    await env.world.addMember(t, late);
    await env.world.setAutoCc(t, true);

    expect(await readThread(author, id)).toEqual(before);
    expect(userIds(before)).toEqual(sorted(author, a, b));
    expect(await inbox(late)).toEqual([]);
    const { teamInbox } = await env.world.as(late, `query($t: ID!) { teamInbox(teamId: $t, first: 100) { edges { node { threadId } } } }`, { t: t.id });
    expect(teamInbox.edges).toEqual([]);
    expect(await codes(env.server.url, `query($id: ID!) { thread(id: $id) { id } }`, { id }, late.token)).toEqual(['NOT_FOUND']);
  });
});

describe('leaveThread', () => {
  async function teamThread() {
    const author = await env.world.professional('Author');
    const a = await env.world.professional('Leaver');
    const b = await env.world.professional('Stayer');
    const t = await team('Leavers', { autoCc: true, members: [a, b] });
    const id = await env.world.thread(author, [asRecipient(t)]);
    return { author, a, b, t, id };
  }

  test('removes only the caller; other members of the same team stay', async () => {
    const { author, a, b, t, id } = await teamThread();
    const before = await readThread(author, id);
    expect((await env.world.as(a, LeaveThreadDocument, { threadId: id })).leaveThread).toBe(true);
    const after = await readThread(b, id);
    expect(userIds(after)).toEqual(sorted(author, b));
    expect(after.participants).toEqual(before.participants.filter((p) => p.user.id !== a.id));
    expect(participant(after, b)?.viaTeam).toEqual({ id: t.id });
    expect(after.teams).toEqual([{ id: t.id }]);
  });

  test('after leaving, the thread is NOT_FOUND for the caller', async () => {
    const { a, id } = await teamThread();
    await env.world.as(a, LeaveThreadDocument, { threadId: id });
    const stranger = await env.world.professional('Stranger');
    const requests: [Operation<unknown, any>, Record<string, unknown>][] = [
      [`query($t: ID!) { thread(id: $t) { id } }`, { t: id }],
      [`query($t: ID!) { thread(id: $t) { messages { edges { node { id } } } } }`, { t: id }],
      [SendMessageDocument, { threadId: id, body: 'after leaving' }],
      [MarkThreadReadDocument, { threadId: id }],
      [`query($t: ID!) { auditTrail(threadId: $t) { id } }`, { t: id }],
      [AddParticipantsDocument, { threadId: id, recipients: [asRecipient(stranger)] }],
      [LeaveThreadDocument, { threadId: id }],
    ];
    for (const [query, variables] of requests) {
      expect(await codes(env.server.url, query, variables, a.token)).toEqual(['NOT_FOUND']);
    }
    expect(await inbox(stranger)).toEqual([]);
  });

  test('after leaving, the thread leaves the caller\'s threads list, and nothing they try afterwards is stored', async () => {
    const { author, a, id } = await teamThread();
    const other = await env.world.thread(a, [asRecipient(author)]);
    expect((await inbox(a)).sort()).toEqual([id, other].sort());
    await env.world.as(a, LeaveThreadDocument, { threadId: id });
    expect(await inbox(a)).toEqual([other]);
    await gql(env.server.url, SendMessageDocument, { threadId: id, body: 'ghost' }, a.token);
    expect((await messageBodies(author, id)).map((m) => m.body)).toEqual(['Hello']);
  });

  test('someone adding them again makes the thread visible to them again', async () => {
    const { author, a, b, t, id } = await teamThread();
    await env.world.as(a, LeaveThreadDocument, { threadId: id });
    await send(author, id, 'while you were away');
    const { addParticipants } = (await env.world.as(b, ADD, { t: id, r: [asRecipient(t)] })) as { addParticipants: ThreadView };
    expect(userIds(addParticipants)).toEqual(sorted(author, a, b));
    expect(participant(addParticipants, a)).toMatchObject({ addedBy: { id: b.id }, viaTeam: { id: t.id } });
    expect(await inbox(a)).toEqual([id]);
    expect((await messageBodies(a, id)).map((m) => m.body)).toEqual(['Hello', 'while you were away']);
    await send(a, id, 'back again');
  });
});

describe('only current participants can see a thread, its messages, participants and audit trail', () => {
  test('a non-participant professional, patient or admin gets NOT_FOUND, as for a thread that does not exist', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)], 'Private');
    const outsiders = [
      await env.world.professional('Outsider'),
      await env.world.patient('Outsider patient'),
      await env.world.professional('Outsider admin', { isAdmin: true }),
      env.world.admin,
    ];
    const missing = '00000000-0000-4000-8000-000000000000';
    const queries = [
      `query($t: ID!) { thread(id: $t) { id } }`,
      `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`,
      `query($t: ID!) { thread(id: $t) { participants { user { id } } } }`,
      `query($t: ID!) { thread(id: $t) { lastMessage { body } } }`,
    ];
    for (const who of outsiders) {
      for (const query of queries) {
        const result = await gql(env.server.url, query, { t: id }, who.token);
        expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
        expect(result.data?.thread ?? null).toBeNull();
        expect(JSON.stringify(result)).not.toContain('Private');
        const absent = await gql(env.server.url, query, { t: missing }, who.token);
        expect(absent.errors?.map((e) => e.message)).toEqual(result.errors?.map((e) => e.message));
      }
      expect(await inbox(who)).not.toContain(id);
      const requests: [Operation<unknown, any>, Record<string, unknown>][] = [
        [SendMessageDocument, { threadId: id, body: 'intrusion' }],
        [MarkThreadReadDocument, { threadId: id }],
        [AddParticipantsDocument, { threadId: id, recipients: [asRecipient(b)] }],
        [LeaveThreadDocument, { threadId: id }],
      ];
      for (const [query, variables] of requests) {
        expect(await codes(env.server.url, query, variables, who.token)).toEqual(['NOT_FOUND']);
      }
    }
    for (const who of outsiders.slice(0, 2)) {
      expect(await codes(env.server.url, `query($t: ID!) { auditTrail(threadId: $t) { id } }`, { t: id }, who.token)).toEqual(['NOT_FOUND']);
    }
    expect((await messageBodies(author, id)).map((m) => m.body)).toEqual(['Private']);
    expect(userIds(await readThread(author, id))).toEqual(sorted(author, b));
  });

  test('a thread id that does not exist, or is not an id at all, is NOT_FOUND', async () => {
    const me = await env.world.professional('Me');
    for (const t of ['00000000-0000-4000-8000-000000000000', 'not-an-id', '']) {
      expect(await codes(env.server.url, `query($t: ID!) { thread(id: $t) { id } }`, { t }, me.token)).toEqual(['NOT_FOUND']);
      expect(await codes(env.server.url, SendMessageDocument, { threadId: t, body: 'x' }, me.token)).toEqual(['NOT_FOUND']);
      expect(await codes(env.server.url, `query($t: ID!) { auditTrail(threadId: $t) { id } }`, { t }, env.world.admin.token)).toEqual(['NOT_FOUND']);
    }
  });
});

describe('sendMessage with a clientMessageId already used by the same caller in the same thread returns the stored message', () => {
  test('a retry returns the stored message and nothing is stored twice', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)]);
    const first = await send(b, id, 'retry me', 'client-1');
    const retry = await send(b, id, 'retry me', 'client-1');
    expect(retry).toEqual(first);
    // Even a retry whose body changed returns what was stored the first time.
    expect(await send(b, id, 'edited', 'client-1')).toEqual(first);
    const messages = await messageBodies(author, id);
    expect(messages.map((m) => m.body)).toEqual(['Hello', 'retry me']);
    expect(messages[1].id).toBe(first.id);
  });

  test('the same clientMessageId from another participant is a different message', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)]);
    const fromB = await send(b, id, 'from B', 'shared-key');
    const fromAuthor = await send(author, id, 'from author', 'shared-key');
    expect(fromAuthor.id).not.toBe(fromB.id);
    expect(fromAuthor).toMatchObject({ body: 'from author', author: { id: author.id } });
    expect((await messageBodies(b, id)).map((m) => m.id)).toEqual([expect.any(String), fromB.id, fromAuthor.id]);
  });

  test('the same clientMessageId in another thread is a different message', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const one = await env.world.thread(author, [asRecipient(b)]);
    const two = await env.world.thread(author, [asRecipient(b)]);
    const inOne = await send(b, one, 'in one', 'same-key');
    const inTwo = await send(b, two, 'in two', 'same-key');
    expect(inTwo.id).not.toBe(inOne.id);
    expect(inTwo).toMatchObject({ threadId: two, body: 'in two' });
    expect((await messageBodies(b, one)).map((m) => m.body)).toEqual(['Hello', 'in one']);
    expect((await messageBodies(b, two)).map((m) => m.body)).toEqual(['Hello', 'in two']);
  });

  test('concurrent retries store one copy and all return it', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)]);
    const results = await Promise.all(Array.from({ length: 8 }, () => send(b, id, 'at most once', 'concurrent-key')));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    for (const r of results) expect(r).toEqual(results[0]);
    const messages = await messageBodies(author, id);
    expect(messages.map((m) => m.body)).toEqual(['Hello', 'at most once']);
    expect(messages[1].id).toBe(results[0].id);
  });

  test('without a clientMessageId every send is a new message', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)]);
    const one = await send(b, id, 'same text');
    const two = await send(b, id, 'same text');
    expect(two.id).not.toBe(one.id);
    expect((await messageBodies(b, id)).map((m) => m.body)).toEqual(['Hello', 'same text', 'same text']);
  });
});

describe('threads are ordered by most recent activity first, with cursor pagination', () => {
  test('a new message moves its thread to the top', async () => {
    const me = await env.world.professional('Inbox owner');
    const b = await env.world.professional('B');
    const t1 = await env.world.thread(me, [asRecipient(b)]);
    await tick();
    const t2 = await env.world.thread(b, [asRecipient(me)]);
    await tick();
    const t3 = await env.world.thread(me, [asRecipient(b)]);
    expect(await inbox(me)).toEqual([t3, t2, t1]);
    await tick();
    await send(b, t1, 'bump');
    expect(await inbox(me)).toEqual([t1, t3, t2]);
    expect(await inbox(b)).toEqual([t1, t3, t2]);
    await tick();
    await send(me, t2, 'bump');
    expect(await inbox(me)).toEqual([t2, t1, t3]);
  });

  test('first/after page through every thread once, with hasNextPage and endCursor', async () => {
    const me = await env.world.professional('Pager');
    const b = await env.world.professional('B');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push(await env.world.thread(me, [asRecipient(b)], `body ${i}`));
      await tick();
    }
    const expected = [...created].reverse();
    const pages: { ids: string[]; hasNextPage: boolean; endCursor: string | null; cursors: string[] }[] = [];
    let after: string | null = null;
    do {
      const { threads }: { threads: any } = await env.world.as(
        me,
        `query($after: String) { threads(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      pages.push({
        ids: threads.edges.map((e: { node: { id: string } }) => e.node.id),
        cursors: threads.edges.map((e: { cursor: string }) => e.cursor),
        ...threads.pageInfo,
      });
      after = threads.pageInfo.hasNextPage ? threads.pageInfo.endCursor : null;
    } while (after && pages.length < 10);
    expect(pages.map((p) => p.ids)).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);
    expect(pages.map((p) => p.hasNextPage)).toEqual([true, true, false]);
    for (const page of pages) expect(page.endCursor).toBe(page.cursors[page.cursors.length - 1]);

    // The cursor of any edge continues right after that edge.
    const { threads: all } = await env.world.as(me, `{ threads(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage } } }`);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const { threads: rest } = await env.world.as(me, `query($a: String) { threads(first: 10, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, {
      a: all.edges[1].cursor,
    });
    expect(rest.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(expected.slice(2));
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const { threads: beyond } = await env.world.as(me, `query($a: String) { threads(after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, {
      a: pages[2].endCursor,
    });
    expect(beyond).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
  test('threads with the same activity time are still each listed once, in a stable order', async () => {
    const me = await env.world.professional('Tied');
    const b = await env.world.professional('B');
    const created: string[] = [];
    for (let i = 0; i < 4; i++) created.push(await env.world.thread(me, [asRecipient(b)]));
    // Activity times that tie to the millisecond happen under load; force them here.
    await env.server.app.db.getRepository(Thread).update({ id: In(created) }, { lastActivityAt: new Date('2030-01-01T00:00:00.000Z') });
    const full = await inbox(me);
    expect([...full].sort()).toEqual([...created].sort());
    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const { threads }: { threads: any } = await env.world.as(me, `query($a: String) { threads(first: 1, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, {
        a: after,
      });
      paged.push(...threads.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!threads.pageInfo.hasNextPage) break;
      after = threads.pageInfo.endCursor;
    }
    expect(paged).toEqual(full);
  });
});

describe('thread.messages is oldest first, with cursor pagination', () => {
  const PAGE = `query($id: ID!, $first: Int, $after: String) { thread(id: $id) { messages(first: $first, after: $after) { edges { cursor node { id body } } pageInfo { hasNextPage endCursor } } } }`;

  async function page(who: Person, id: string, first: number, after: string | null) {
    const { thread } = await env.world.as(who, PAGE, { id, first, after });
    return thread.messages as { edges: { cursor: string; node: { id: string; body: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  }

  test('messages come oldest first, and after returns exactly the messages after the cursor', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)], 'm0');
    for (let i = 1; i <= 5; i++) await send(i % 2 ? b : author, id, `m${i}`);
    const all = await page(b, id, 50, null);
    expect(all.edges.map((e) => e.node.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(all.pageInfo).toEqual({ hasNextPage: false, endCursor: all.edges[5].cursor });

    for (let k = 0; k < all.edges.length; k++) {
      const after = await page(b, id, 50, all.edges[k].cursor);
      expect(after.edges.map((e) => e.node.body)).toEqual(all.edges.slice(k + 1).map((e) => e.node.body));
    }

    const first = await page(b, id, 2, null);
    expect(first.edges.map((e) => e.node.body)).toEqual(['m0', 'm1']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(b, id, 2, first.pageInfo.endCursor);
    expect(second.edges.map((e) => e.node.body)).toEqual(['m2', 'm3']);
    expect(second.pageInfo.hasNextPage).toBe(true);
    const third = await page(b, id, 2, second.pageInfo.endCursor);
    expect(third.edges.map((e) => e.node.body)).toEqual(['m4', 'm5']);
    expect(third.pageInfo).toEqual({ hasNextPage: false, endCursor: third.edges[1].cursor });
  });

  test('a client catching up with after gets only what was sent since its last cursor', async () => {
    const author = await env.world.professional('Author');
    const b = await env.world.professional('B');
    const id = await env.world.thread(author, [asRecipient(b)], 'seen');
    const seen = await page(b, id, 50, null);
    const cursor = seen.pageInfo.endCursor;
    expect(await page(b, id, 50, cursor)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    await send(author, id, 'missed 1');
    await send(author, id, 'missed 2');
    const caughtUp = await page(b, id, 50, cursor);
    expect(caughtUp.edges.map((e) => e.node.body)).toEqual(['missed 1', 'missed 2']);
  });
});

describe('a garbage cursor or first outside 1..100 is BAD_USER_INPUT', () => {
  test('for threads', async () => {
    const me = await env.world.professional('Me');
    const b = await env.world.professional('B');
    await env.world.thread(me, [asRecipient(b)]);
    const q = `query($first: Int, $after: String) { threads(first: $first, after: $after) { edges { node { id } } } }`;
    const messageCursor = Buffer.from(JSON.stringify([1])).toString('base64url');
    for (const variables of [{ after: 'garbage' }, { after: messageCursor }, { first: 0 }, { first: -1 }, { first: 101 }]) {
      expect([variables, await codes(env.server.url, q, variables, me.token)]).toEqual([variables, ['BAD_USER_INPUT']]);
    }
    expect((await env.world.as(me, q, { first: 100 })).threads.edges).toHaveLength(1);
    expect((await env.world.as(me, q, { first: 1 })).threads.edges).toHaveLength(1);
  });

  test('for threads, also a forged cursor with a time outside the years 1 to 9999 (which a database may not store), never a server error; the years at either end are a cursor like any other', async () => {
    const me = await env.world.professional('Me');
    const b = await env.world.professional('B');
    const id = await env.world.thread(me, [asRecipient(b)]);
    const q = `query($after: String) { threads(first: 10, after: $after) { edges { node { id } } } }`;
    const cursor = (at: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');
    for (const far of ['-100000-01-01T00:00:00.000Z', '0000-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z']) {
      expect([far, await codes(env.server.url, q, { after: cursor(far) }, me.token)]).toEqual([far, ['BAD_USER_INPUT']]);
    }
    expect((await env.world.as(me, q, { after: cursor('9999-12-31T23:59:59.999Z') })).threads.edges).toEqual([{ node: { id } }]);
    expect((await env.world.as(me, q, { after: cursor('0001-01-01T00:00:00.000Z') })).threads.edges).toEqual([]);
  });

  test('for thread.messages', async () => {
    const me = await env.world.professional('Me');
    const b = await env.world.professional('B');
    const id = await env.world.thread(me, [asRecipient(b)]);
    const q = `query($id: ID!, $first: Int, $after: String) { thread(id: $id) { messages(first: $first, after: $after) { edges { node { id } } } } }`;
    const { threads } = await env.world.as(me, `{ threads { pageInfo { endCursor } } }`);
    for (const variables of [{ after: 'garbage' }, { after: threads.pageInfo.endCursor }, { first: 0 }, { first: -5 }, { first: 101 }]) {
      expect(await codes(env.server.url, q, { id, ...variables }, me.token)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await env.world.as(me, q, { id, first: 100 })).thread.messages.edges).toHaveLength(1);
  });
});
