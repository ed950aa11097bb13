// The normalized cache every view reads. Entities with an id are kept once, whatever query or
// live event brought them; the updates below are what a result means beyond its own entities:
// a thread joining or leaving the list, a message joining the open thread, a team inbox
// whose filtered lists must be asked again.
import { cacheExchange, type Cache, type Variables } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import {
  ThreadListEntryFragmentDoc,
  ThreadMessagesDocument,
  type MessageFieldsFragment,
  type ThreadActivityKind,
  type ThreadActivitySubscription,
  type ThreadSummaryFragment,
} from '../gql/graphql';
import schema from '../gql/schema';

/** The thread list's first page: the same variables here and in the view, so that both name one query. */
export const THREADS_VARIABLES = { first: 50 };
/** How many messages the open thread asks for at a time (the server's largest page). */
export const THREAD_MESSAGES = 100;

const notKeyed = () => null;

/** Every cached answer of the Query field `name`, one per set of arguments (a page, a filter). */
const queriesOf = (cache: Cache, name: string) => cache.inspectFields('Query').filter((field) => field.fieldName === name);

/**
 * The connection of each cached page of the thread list, and whether it is the first page.
 * relayPagination reads the pages as one list, so changes go to the pages themselves: writing
 * that one list back (updateQuery) would copy every page into one, and a thread taken out
 * there would stay listed by the others.
 */
function threadPages(cache: Cache): { connection: string; first: boolean }[] {
  return queriesOf(cache, 'threads')
    .map((field) => ({ connection: cache.resolve('Query', field.fieldKey) as string | null, first: !field.arguments?.after }))
    .filter((page): page is { connection: string; first: boolean } => !!page.connection);
}

const edgesOf = (cache: Cache, connection: string) => (cache.resolve(connection, 'edges') ?? []) as string[];

/** Whether an edge of the list is the thread's. */
const isOf = (cache: Cache, edge: string, threadId: string) => cache.resolve(edge, 'node') === cache.keyOfEntity({ __typename: 'Thread', id: threadId });

/** Puts a thread at the top of the cached list's first page, unless a page lists it. */
function addToList(cache: Cache, thread: ThreadSummaryFragment): void {
  const first = threadPages(cache).find((page) => page.first);
  if (!first || isListed(cache, thread.id)) return;
  // The entry to link (keyed by its thread, see keys): the thread's fields are in the cache already.
  const edge = { __typename: 'ThreadEdge', node: { __typename: 'Thread', id: thread.id } };
  cache.writeFragment(ThreadListEntryFragmentDoc, edge);
  cache.link(first.connection, 'edges', [cache.keyOfEntity(edge), ...edgesOf(cache, first.connection)]);
}

/** Whether a cached page of the list has the thread. */
const isListed = (cache: Cache, threadId: string) => threadPages(cache).some((page) => edgesOf(cache, page.connection).some((edge) => isOf(cache, edge, threadId)));

/**
 * Takes a thread out of every page of the list, and out of the cache. An open view of it reads
 * null at once rather than asking again: the server would refuse that read, and record it as refused.
 */
function removeThread(cache: Cache, threadId: string): void {
  for (const { connection } of threadPages(cache)) {
    cache.link(connection, 'edges', edgesOf(cache, connection).filter((edge) => !isOf(cache, edge, threadId)));
  }
  cache.link('Query', 'thread', { id: threadId }, null);
  cache.invalidate({ __typename: 'Thread', id: threadId });
}

/**
 * Appends a message to its thread's last loaded page of messages (the cached one without a next
 * page), once. Pages go oldest first, so the message belongs after every page before it. Until
 * the last page has loaded there is none to append to: that page brings the message itself.
 */
function addMessage(cache: Cache, message: MessageFieldsFragment): void {
  const thread = { __typename: 'Thread', id: message.threadId };
  const messageKey = cache.keyOfEntity({ __typename: 'Message', id: message.id });
  let last: Variables | null = null;
  for (const field of cache.inspectFields(thread)) {
    if (field.fieldName !== 'messages') continue;
    const page = cache.resolve(thread, field.fieldKey) as string | null;
    if (!page) continue;
    // The sender hears of its message twice (its sendMessage answer and the live event).
    const edges = (cache.resolve(page, 'edges') ?? []) as string[];
    if (edges.some((edge) => cache.resolve(edge, 'node') === messageKey)) return;
    if (!cache.resolve(cache.resolve(page, 'pageInfo') as string, 'hasNextPage')) last = field.arguments;
  }
  if (!last) return;
  cache.updateQuery({ query: ThreadMessagesDocument, variables: { ...last, id: message.threadId } }, (data) => {
    // __typename: urql adds it to every selection, and the cache needs it to write the edge.
    data?.thread?.messages.edges.push({ __typename: 'MessageEdge', node: message } as NonNullable<typeof data.thread>['messages']['edges'][number]);
    return data;
  });
}

/**
 * A team's inbox lists (all teams' for a null team) are filtered (open or done, by assignee) and
 * ordered by the server: after a change, each cached page of them is asked again. The view asks each page after the end of the
 * one before it (inbox/inbox-page.tsx), so when a page's end moves the next page follows it.
 */
function refreshInbox(cache: Cache, teamId: string | null): void {
  for (const field of queriesOf(cache, 'teamInbox')) {
    if (teamId === null || field.arguments?.teamId === teamId) cache.invalidate('Query', field.fieldName, field.arguments);
  }
}

/** The thread's items on every cached page of every team inbox list (whatever its filter). */
function inboxItemsOf(cache: Cache, threadId: string): string[] {
  return queriesOf(cache, 'teamInbox')
    .flatMap((field) => {
      const connection = cache.resolve('Query', field.fieldKey) as string | null;
      return connection ? edgesOf(cache, connection).map((edge) => cache.resolve(edge, 'node') as string) : [];
    })
    .filter((item) => cache.resolve(item, 'threadId') === threadId);
}

/**
 * Whether a message can change its teams' inboxes: a staff note never does, nor a patient writing
 * again into a wait the cached inboxes already show (neither its wait nor its place moves). Asking
 * the inboxes again reads every thread they list, so it is done only when they may have changed.
 */
function changesInbox(cache: Cache, message: MessageFieldsFragment): boolean {
  if (message.staffOnly) return false;
  if (message.author.kind !== 'PATIENT') return true;
  const items = inboxItemsOf(cache, message.threadId);
  return !items.length || items.some((item) => !cache.resolve(item, 'waitingSince'));
}

/**
 * Whether an event changes what a view shows of the thread beyond what it carries: a thread new to
 * the loaded list, or the people of a thread the list or an open view shows. Asked for only then,
 * so that a viewer whose list is not loaded is not recorded as reading each thread a message reaches.
 */
function shows(cache: Cache, kind: ThreadActivityKind, threadId: string): boolean {
  const newToList = threadPages(cache).some((page) => page.first) && !isListed(cache, threadId);
  if (kind === 'PARTICIPANTS_CHANGED') return newToList || cache.resolve({ __typename: 'Thread', id: threadId }, 'participants') !== undefined;
  return newToList;
}

/** The ids of the auto-CC teams of a cached thread (none when it is not cached). */
function teamsOf(cache: Cache, threadId: string): string[] {
  const teams = (cache.resolve({ __typename: 'Thread', id: threadId }, 'teams') ?? []) as string[];
  return teams.map((team) => cache.resolve(team, 'id') as string);
}

/**
 * What live events and answers mean to the cache. `askForThread` asks the server for a thread as
 * the list shows it (ListedThread): the feed carries a thread's metadata only, so a thread new to
 * the list, or whose people changed, is asked for; its answer comes back through Query.thread.
 */
export const normalizedCache = (askForThread: (threadId: string) => void) =>
  cacheExchange({
    schema,
    keys: {
      PageInfo: notKeyed,
      ThreadConnection: notKeyed,
      // By its thread: one entry per thread whatever page brought it, and one that addToList can write.
      ThreadEdge: (edge) => (edge.node as { id?: string } | null)?.id ?? null,
      MessageConnection: notKeyed,
      MessageEdge: notKeyed,
      TeamInboxConnection: notKeyed,
      TeamInboxEdge: notKeyed,
      AccessLogConnection: notKeyed,
      AccessLogEdge: notKeyed,
      AccessLogEntry: notKeyed,
      AuthPayload: notKeyed,
      AttachmentLink: notKeyed,
      ThreadActivity: notKeyed,
      QuietHours: notKeyed,
      // One per viewer: every mutation that answers the settings updates the one the view shows.
      NotificationSettings: () => 'viewer',
    },
    // The thread list's pages (each asked for after the one before) read as one list.
    resolvers: { Query: { threads: relayPagination() } },
    updates: {
      Subscription: {
        threadActivity(result, _args, cache) {
          const { kind, threadId, teamId, thread, message } = (result as ThreadActivitySubscription).threadActivity;
          if (kind === 'LEFT_THREAD' || kind === 'REMOVED_FROM_THREAD') return removeThread(cache, threadId);
          if (thread && shows(cache, kind, threadId)) askForThread(threadId);
          if (kind === 'MESSAGE_ADDED' && message) {
            addMessage(cache, message);
            // The list's preview: the message the viewer was just given is the thread's last they may see.
            cache.link({ __typename: 'Thread', id: threadId }, 'lastMessage', { __typename: 'Message', id: message.id });
          }
          if (teamId) refreshInbox(cache, teamId);
          // A thread new to the viewer may be new to any of their teams' inboxes (its teams are not known yet).
          else if (kind === 'ADDED_TO_THREAD') refreshInbox(cache, null);
          // Otherwise its teams' inboxes: its people changed, or a message that can move it there.
          else if (kind !== 'MESSAGE_ADDED' || (message && changesInbox(cache, message))) {
            for (const team of teamsOf(cache, threadId)) refreshInbox(cache, team);
          }
        },
      },
      Query: {
        // A first page answered again (after a reconnection) starts the list afresh: the older pages
        // were cut by cursors of the list as it was, and would leave out a thread pushed past the first.
        threads(_result, args, cache) {
          if (args.after) return;
          for (const page of queriesOf(cache, 'threads')) {
            if (page.arguments?.after) cache.invalidate('Query', page.fieldName, page.arguments);
          }
        },
        // A thread read whole (the open thread, or ListedThread after a live event) joins the list if it is not there.
        thread(result, _args, cache) {
          const thread = (result as { thread: ThreadSummaryFragment | null }).thread;
          if (thread) addToList(cache, thread);
        },
      },
      Mutation: {
        createThread(result, _args, cache) {
          addToList(cache, (result as { createThread: ThreadSummaryFragment }).createThread);
        },
        sendMessage(result, _args, cache) {
          addMessage(cache, (result as { sendMessage: MessageFieldsFragment }).sendMessage);
        },
        leaveThread(result, args, cache) {
          if (result.leaveThread) removeThread(cache, args.threadId as string);
        },
        claimThread: (_result, args, cache) => refreshInbox(cache, args.teamId as string),
        assignThread: (_result, args, cache) => refreshInbox(cache, args.teamId as string),
        unassignThread: (_result, args, cache) => refreshInbox(cache, args.teamId as string),
        markThreadDone: (_result, args, cache) => refreshInbox(cache, args.teamId as string),
        reopenThread: (_result, args, cache) => refreshInbox(cache, args.teamId as string),
        recordAbsence: (_result, _args, cache) => cache.invalidate('Query', 'me'),
        cancelAbsence: (_result, args, cache) => cache.invalidate({ __typename: 'Absence', id: args.id as string }),
      },
    },
  });
