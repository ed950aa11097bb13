import { Message } from '../src/modules/messages/message.entity';
import { Thread } from '../src/modules/threads/thread.entity';
import { codes } from './support/graphql';
import { useWorld, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// What the one statement that numbers a message (messages/next-message.ts) decides besides the
// number: the message's time, and whether a clientMessageId was used already.
//
// A sender reads the clock before it waits for the thread's lock, so one that waited may hold
// an earlier time than the message committed before it. Here the message before is put an hour
// ahead of the clock, as a sender whose clock ran ahead would have left it, and the next message
// must still not be earlier.

const env = useWorld();
const HOUR = 60 * 60_000;

let alice: Person;
let bob: Person;
beforeAll(async () => {
  alice = await env.world.professional('Alice Times');
  bob = await env.world.professional('Bob Times');
});

async function send(author: Person, threadId: string, staffOnly = false, clientMessageId: string | null = null): Promise<{ id: string; createdAt: string }> {
  return (await env.world.as(author, SendMessageDocument, { threadId, body: 'At what time?', staffOnly, clientMessageId })).sendMessage;
}

/** Moves the message an hour ahead, and the thread's record of its newest message with it (and its activity, unless it is a note). */
async function putAhead(messageId: string): Promise<Date> {
  const m = env.server.app.db.manager;
  const message = await m.findOneByOrFail(Message, { id: messageId });
  const ahead = new Date(Date.now() + HOUR);
  await m.update(Message, { id: messageId }, { createdAt: ahead });
  await m.update(Thread, { id: message.threadId }, message.staffOnly ? { lastMessageAt: ahead } : { lastMessageAt: ahead, lastActivityAt: ahead });
  return ahead;
}

const thread = (threadId: string) => env.server.app.db.manager.findOneByOrFail(Thread, { id: threadId });

test('a message is never earlier than the one before it in its thread, and the thread shows its time', async () => {
  const threadId = await env.world.thread(alice, [{ userId: bob.id }]);
  const ahead = await putAhead((await send(alice, threadId)).id);
  const reply = await send(bob, threadId);
  expect(Date.parse(reply.createdAt)).toBeGreaterThanOrEqual(ahead.getTime());
  expect((await thread(threadId)).lastActivityAt.toISOString()).toBe(reply.createdAt);
});

test('nor earlier than a staff-only note before it, which left the thread\'s activity where it was', async () => {
  const threadId = await env.world.thread(alice, [{ userId: bob.id }]);
  const before = (await thread(threadId)).lastActivityAt;
  const note = await send(alice, threadId, true);
  expect((await thread(threadId)).lastActivityAt).toEqual(before);
  const ahead = await putAhead(note.id);
  const reply = await send(bob, threadId);
  expect(Date.parse(reply.createdAt)).toBeGreaterThanOrEqual(ahead.getTime());
  expect((await thread(threadId)).lastActivityAt.toISOString()).toBe(reply.createdAt);
});

describe('a clientMessageId', () => {
  const count = (threadId: string) => env.server.app.db.manager.countBy(Message, { threadId });

  test("is its author's: another participant's message with the same one is stored, and each retry returns its author's", async () => {
    const threadId = await env.world.thread(alice, [{ userId: bob.id }]);
    const mine = await send(alice, threadId, false, 'same-key');
    const theirs = await send(bob, threadId, false, 'same-key');
    expect(theirs.id).not.toBe(mine.id);
    expect((await send(alice, threadId, false, 'same-key')).id).toBe(mine.id);
    expect((await send(bob, threadId, false, 'same-key')).id).toBe(theirs.id);
    expect(await count(threadId)).toBe(3);
  });

  test('retried by an author who has left the thread since is NOT_FOUND, as for anyone outside it', async () => {
    const carol = await env.world.professional('Carol Times');
    const threadId = await env.world.thread(alice, [{ userId: bob.id }, { userId: carol.id }]);
    await send(carol, threadId, false, 'before-leaving');
    await env.world.leave(carol, threadId);
    expect(await codes(env.server.url, SendMessageDocument, { threadId, body: 'At what time?', clientMessageId: 'before-leaving' }, carol.token)).toEqual(['NOT_FOUND']);
    expect(await count(threadId)).toBe(2);
  });
});
