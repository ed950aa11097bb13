// The normalized cache every view reads. Entities with an id are kept once, whatever query or
// live event brought them; the updates below are what a result means beyond its own entities:
// a thread joining or leaving the list, a message joining the open thread, a team inbox
// whose filtered lists must be asked again.
import { cacheExchange, type Cache, type Variables } from '@urql/exchange-graphcache';
import {
  ThreadMessagesDocument,
  ThreadsDocument,
  type MessageFieldsFragment,
  type ThreadActivitySubscription,
  type ThreadSummaryFragment,
} from '../gql/graphql';
import schema from '../gql/schema';

/** The thread list's variables: the same here and in the view, so that both name one query. */
export const THREADS_VARIABLES = { first: 50 };
/** How many messages the open thread asks for at a time (the server's largest page). */
export const THREAD_MESSAGES = 100;

const notKeyed = () => null;

/** Puts a thread at the top of the cached list, unless it is there. */
function addToList(cache: Cache, thread: ThreadSummaryFragment): void {
  let added = false;
  cache.updateQuery({ query: ThreadsDocument, variables: THREADS_VARIABLES }, (data) => {
    if (!data || data.threads.edges.some((edge) => edge.node.id === thread.id)) return data;
    // __typename: urql adds it to every selection, and the cache needs it to write the edge.
    data.threads.edges.unshift({ __typename: 'ThreadEdge', node: thread } as (typeof data.threads.edges)[number]);
    added = true;
    return data;
  });
  // Someone added again after leaving: forget the null that removeThread left for the thread.
  if (added) cache.invalidate('Query', 'thread', { id: thread.id });
}

/**
 * Takes a thread out of the list, and out of the cache. An open view of it reads null at once
 * rather than asking again: the server would refuse that read, and record it as refused.
 */
function removeThread(cache: Cache, threadId: string): void {
  cache.updateQuery({ query: ThreadsDocument, variables: THREADS_VARIABLES }, (data) => {
    if (data) data.threads.edges = data.threads.edges.filter((edge) => edge.node.id !== threadId);
    return data;
  });
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

/** A team's inbox lists are filtered (open or done, by assignee): after a change, each is asked again. */
function refreshInbox(cache: Cache, teamId: string): void {
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName === 'teamInbox' && field.arguments?.teamId === teamId) cache.invalidate('Query', field.fieldName, field.arguments);
  }
}

export const normalizedCache = cacheExchange({
  schema,
  keys: {
    PageInfo: notKeyed,
    ThreadConnection: notKeyed,
    ThreadEdge: notKeyed,
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
  updates: {
    Subscription: {
      threadActivity(result, _args, cache) {
        const { kind, threadId, teamId, thread, message } = (result as ThreadActivitySubscription).threadActivity;
        if (kind === 'LEFT_THREAD' || kind === 'REMOVED_FROM_THREAD') removeThread(cache, threadId);
        else if (thread) addToList(cache, thread);
        if (kind === 'MESSAGE_ADDED' && message) addMessage(cache, message);
        if (teamId) refreshInbox(cache, teamId);
        // A new thread, or a message that starts or ends a patient's wait, changes its teams' inboxes too.
        else if (thread) for (const team of thread.teams) refreshInbox(cache, team.id);
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
