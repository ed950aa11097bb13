import { createLoaders } from '../src/loaders';
import { User } from '../src/modules/users/user.entity';
import { asRecipient, useWorld, type Person } from './support/world';
import { SendMessageDocument } from '../web/gql/graphql';

// The visibility scope (threads/thread-visibility.ts) restricts the reads
// themselves, not only the resolvers in front of them: a message page, the
// last message, the unread count and the thread loader give nothing of a
// thread to someone not in it (never added, or left), and no staff-only note
// to a patient, even when called without the resolvers' access checks. ThreadAccess's
// check for fields that answer null (ThreadActivity.inbox) reads through the same loader.

const env = useWorld();

const userOf = (person: Person) => env.server.app.db.manager.findOneByOrFail(User, { id: person.id });

async function reads(person: Person, threadId: string) {
  const viewer = await userOf(person);
  const loaders = createLoaders(env.server.app.db, viewer);
  const page = await env.server.app.messages.page(viewer, threadId, 50);
  const threads = await env.server.app.threads.list(viewer, 50);
  return {
    page: page.edges.map((e) => e.node.body),
    listed: threads.edges.some((e) => e.node.id === threadId),
    thread: (await loaders.thread.load(threadId))?.id ?? null,
    visible: await env.server.app.access.isVisible(loaders, threadId),
    last: (await loaders.lastMessageOfThread.load(threadId))?.body ?? null,
    unread: await loaders.unreadCount.load(threadId),
  };
}

test('participants see the thread; a patient never a staff-only note; outsiders and leavers nothing', async () => {
  const { world } = env;
  const dr = await world.professional('Scope Dr');
  const colleague = await world.professional('Scope Colleague');
  const outsider = await world.professional('Scope Outsider');
  const pat = await world.patient('Scope Pat');
  await world.share(pat, dr);
  await world.share(pat, colleague);
  const threadId = await world.thread(pat, [asRecipient(dr), asRecipient(colleague)], 'first');
  await world.send(dr, threadId, 'reply');
  await world.as(dr, SendMessageDocument, { threadId, body: 'note', staffOnly: true });

  expect(await reads(colleague, threadId)).toEqual({ page: ['first', 'reply', 'note'], listed: true, thread: threadId, visible: true, last: 'note', unread: 3 });
  expect(await reads(pat, threadId)).toEqual({ page: ['first', 'reply'], listed: true, thread: threadId, visible: true, last: 'reply', unread: 1 });
  const nothing = { page: [], listed: false, thread: null, visible: false, last: null, unread: 0 };
  expect(await reads(outsider, threadId)).toEqual(nothing);

  await world.leave(colleague, threadId);
  expect(await reads(colleague, threadId)).toEqual(nothing);
});

test('text that is no id names no thread anyone may see (and reaches no database: PostgreSQL would refuse some of it)', async () => {
  const viewer = await userOf(await env.world.professional('Scope Typist'));
  const loaders = createLoaders(env.server.app.db, viewer);
  for (const text of ['not-an-id', "'; DROP TABLE threads; --", 'nul\u0000byte']) expect(await env.server.app.access.isVisible(loaders, text)).toBe(false);
});
