import { codes } from './support/graphql';
import { asRecipient, useWorld, type Person } from './support/world';
import { MarkThreadReadDocument, SendMessageDocument } from '../web/gql/graphql';

const env = useWorld();

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function unread(who: Person, threadId: string): Promise<number> {
  return (await env.world.as(who, `query($t: ID!) { thread(id: $t) { unreadCount } }`, { t: threadId })).thread.unreadCount;
}

async function markRead(who: Person, threadId: string) {
  return (await env.world.as(who, MarkThreadReadDocument, { threadId })).markThreadRead;
}

async function send(who: Person, threadId: string, body: string): Promise<string> {
  return (await env.world.as(who, SendMessageDocument, { threadId, body })).sendMessage.id;
}

async function lastReadAt(viewer: Person, threadId: string): Promise<Map<string, string | null>> {
  const { thread } = await env.world.as(viewer, `query($t: ID!) { thread(id: $t) { participants { user { id } lastReadAt } } }`, { t: threadId });
  return new Map(thread.participants.map((p: { user: { id: string }; lastReadAt: string | null }) => [p.user.id, p.lastReadAt]));
}

/** readBy of every message of the thread, oldest first, as user ids in sorted order. */
async function readers(viewer: Person, threadId: string): Promise<string[][]> {
  const { thread } = await env.world.as(viewer, `query($t: ID!) { thread(id: $t) { messages { edges { node { readBy { id } } } } } }`, { t: threadId });
  return thread.messages.edges.map((e: { node: { readBy: { id: string }[] } }) => e.node.readBy.map((u) => u.id).sort());
}

const ids = (...people: Person[]) => people.map((p) => p.id).sort();

async function threeParticipants() {
  const a = await env.world.professional('Author');
  const b = await env.world.professional('Reader B');
  const c = await env.world.professional('Reader C');
  const threadId = await env.world.thread(a, [asRecipient(b), asRecipient(c)], 'first');
  return { a, b, c, threadId };
}

describe('unreadCount', () => {
  test("counts messages by others newer than the caller's read mark", async () => {
    const { a, b, threadId } = await threeParticipants();
    expect(await unread(b, threadId)).toBe(1);
    await send(a, threadId, 'second');
    await send(a, threadId, 'third');
    expect(await unread(b, threadId)).toBe(3);
    await markRead(b, threadId);
    expect(await unread(b, threadId)).toBe(0);
    await send(a, threadId, 'fourth');
    expect(await unread(b, threadId)).toBe(1);
    await markRead(b, threadId);
    expect(await unread(b, threadId)).toBe(0);
  });

  test('own messages never count', async () => {
    const { a, b, threadId } = await threeParticipants();
    expect(await unread(a, threadId)).toBe(0);
    await send(a, threadId, 'more from a');
    expect(await unread(a, threadId)).toBe(0);
    await send(b, threadId, 'from b 1');
    await send(b, threadId, 'from b 2');
    // b never marked the thread read, yet their own messages are not unread for them.
    expect(await unread(b, threadId)).toBe(2);
    expect(await unread(a, threadId)).toBe(2);
    await markRead(b, threadId);
    await send(b, threadId, 'from b 3');
    expect(await unread(b, threadId)).toBe(0);
    expect(await unread(a, threadId)).toBe(3);
  });

  test('markThreadRead returns the thread with nothing unread', async () => {
    const { a, b, threadId } = await threeParticipants();
    await send(a, threadId, 'second');
    const marked = await markRead(b, threadId);
    expect(marked).toMatchObject({ id: threadId, unreadCount: 0 });
  });

  test('is per participant: one reader marking the thread read does not change another reader\'s count', async () => {
    const { a, b, c, threadId } = await threeParticipants();
    await send(a, threadId, 'second');
    await markRead(b, threadId);
    expect(await unread(b, threadId)).toBe(0);
    expect(await unread(c, threadId)).toBe(2);
    await send(b, threadId, 'from b');
    expect(await unread(a, threadId)).toBe(1);
    expect(await unread(c, threadId)).toBe(3);
    await markRead(c, threadId);
    expect(await unread(c, threadId)).toBe(0);
    expect(await unread(a, threadId)).toBe(1);
    expect(await unread(b, threadId)).toBe(0);
  });

  test('is counted per thread when the threads list asks for many threads at once', async () => {
    const me = await env.world.professional('Inbox owner');
    const other = await env.world.professional('Other');
    const quiet = await env.world.thread(me, [asRecipient(other)], 'mine');
    await tick();
    const busy = await env.world.thread(other, [asRecipient(me)], 'one');
    await send(other, busy, 'two');
    await send(other, busy, 'three');
    await tick();
    const single = await env.world.thread(other, [asRecipient(me)], 'only');
    const { threads } = await env.world.as(me, `{ threads { edges { node { id unreadCount } } } }`);
    expect(threads.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: single, unreadCount: 1 },
      { id: busy, unreadCount: 3 },
      { id: quiet, unreadCount: 0 },
    ]);
  });
});

describe('markThreadRead', () => {
  test('sets Participant.lastReadAt for the caller only', async () => {
    const { a, b, c, threadId } = await threeParticipants();
    const before = await lastReadAt(a, threadId);
    expect([...before.values()]).toEqual([null, null, null]);

    const start = Date.now();
    const marked = await markRead(b, threadId);
    const end = Date.now();
    const mine = marked.participants.find((p) => p.user.id === b.id)!.lastReadAt!;
    expect(Date.parse(mine)).toBeGreaterThanOrEqual(start - 1);
    expect(Date.parse(mine)).toBeLessThanOrEqual(end + 1);

    const after = await lastReadAt(c, threadId);
    expect(after.get(b.id)).toBe(mine);
    expect(after.get(a.id)).toBeNull();
    expect(after.get(c.id)).toBeNull();

    await tick();
    await markRead(b, threadId);
    expect(Date.parse((await lastReadAt(a, threadId)).get(b.id)!)).toBeGreaterThan(Date.parse(mine));
  });

  test('is NOT_FOUND for someone who is not a participant, and changes nobody\'s read state', async () => {
    const { a, b, threadId } = await threeParticipants();
    const outsider = await env.world.professional('Outsider');
    expect(await codes(env.server.url, MarkThreadReadDocument, { threadId }, outsider.token)).toEqual(['NOT_FOUND']);
    expect(await unread(b, threadId)).toBe(1);
    expect([...(await lastReadAt(a, threadId)).values()]).toEqual([null, null, null]);
  });
});

describe('Message.readBy lists the participants other than the author who have read it', () => {
  test('a reader appears once they marked the thread read; the author never does', async () => {
    const { a, b, c, threadId } = await threeParticipants();
    expect(await readers(a, threadId)).toEqual([[]]);

    await markRead(b, threadId);
    expect(await readers(a, threadId)).toEqual([[b.id]]);

    // The author marking their own thread read does not make them a reader of their own message.
    await markRead(a, threadId);
    expect(await readers(c, threadId)).toEqual([[b.id]]);

    await markRead(c, threadId);
    expect(await readers(a, threadId)).toEqual([ids(b, c)]);
  });

  test('a message sent after a read mark is not read by that reader until they mark again', async () => {
    const { a, b, c, threadId } = await threeParticipants();
    await markRead(b, threadId);
    await markRead(c, threadId);
    await send(a, threadId, 'second');
    expect(await readers(b, threadId)).toEqual([ids(b, c), []]);

    await send(b, threadId, 'third, by b');
    await markRead(a, threadId);
    // a read everything: a is a reader of b's message but not of their own two.
    expect(await readers(a, threadId)).toEqual([ids(b, c), [], [a.id]]);

    await markRead(c, threadId);
    expect(await readers(a, threadId)).toEqual([ids(b, c), [c.id], ids(a, c)]);
  });

  test('is the same whoever asks', async () => {
    const { a, b, c, threadId } = await threeParticipants();
    await markRead(c, threadId);
    for (const viewer of [a, b, c]) expect(await readers(viewer, threadId)).toEqual([[c.id]]);
  });
});
