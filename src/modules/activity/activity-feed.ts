import { filter, map, pipe, Repeater } from '@graphql-yoga/subscription';
import type { InboxChangedEvent, MessageAddedEvent, ParticipantsChangedEvent } from '../../events/event-bus';
import { fromMessageData } from '../messages/message-data';
import { ThreadActivity, ThreadActivityKind } from './thread-activity.type';

export interface ActivityFeedOptions {
  viewerId: string;
  /** The viewer's live messages, already filtered and ordered (MessageService.stream). */
  messages: AsyncIterable<MessageAddedEvent>;
  /** Every participants change, unfiltered (the PARTICIPANTS_CHANGED topic). */
  changes: AsyncIterable<ParticipantsChangedEvent>;
  canReceiveChange(event: ParticipantsChangedEvent, userId: string): boolean;
  /** Every team inbox change, unfiltered (the INBOX_CHANGED topic); each names exactly who may hear of it. */
  inboxChanges: AsyncIterable<InboxChangedEvent>;
}

/**
 * One viewer's dashboard feed: their messages, the participants changes of
 * their threads and the changes of their teams' inboxes, merged as they arrive. Each source keeps its own order; an
 * ADDED_TO_THREAD and the thread's first message come from two topics, so a
 * client must not rely on which of the two arrives first (both name the
 * thread). Ending the feed ends both sources.
 */
export function activityFeed(options: ActivityFeedOptions): AsyncIterable<ThreadActivity> {
  const { viewerId } = options;
  const changes = pipe(
    options.changes,
    filter((event: ParticipantsChangedEvent) => options.canReceiveChange(event, viewerId)),
    map((event: ParticipantsChangedEvent) => changeActivity(event, viewerId)),
    filter((activity: ThreadActivity | null): activity is ThreadActivity => activity !== null),
  );
  const messages = pipe(options.messages, map(messageActivity));
  const inbox = pipe(
    options.inboxChanges,
    filter((event: InboxChangedEvent) => event.recipientIds.includes(viewerId)),
    map(inboxActivity),
  );
  return Repeater.merge([messages, changes, inbox]);
}

/**
 * What a participants change means to one viewer who may hear of it; null
 * for the creator of a new thread, who was added to nothing (their clients
 * see the thread with its first message).
 */
export function changeActivity(event: ParticipantsChangedEvent, viewerId: string): ThreadActivity | null {
  let kind: ThreadActivityKind;
  if (event.removedIds.includes(viewerId)) kind = event.actorId === viewerId ? ThreadActivityKind.LEFT_THREAD : ThreadActivityKind.REMOVED_FROM_THREAD;
  else if (event.addedIds.includes(viewerId)) kind = ThreadActivityKind.ADDED_TO_THREAD;
  else if (event.created) return null;
  else kind = ThreadActivityKind.PARTICIPANTS_CHANGED;
  return Object.assign(new ThreadActivity(), { kind, threadId: event.threadId, message: null, teamId: null, at: new Date(event.at) });
}

function messageActivity(event: MessageAddedEvent): ThreadActivity {
  const message = fromMessageData(event.message);
  return Object.assign(new ThreadActivity(), { kind: ThreadActivityKind.MESSAGE_ADDED, threadId: message.threadId, message, teamId: null, at: message.createdAt });
}

function inboxActivity(event: InboxChangedEvent): ThreadActivity {
  const kind = event.escalated ? ThreadActivityKind.ESCALATED : ThreadActivityKind.INBOX_CHANGED;
  return Object.assign(new ThreadActivity(), { kind, threadId: event.threadId, message: null, teamId: event.teamId, at: new Date(event.at) });
}
