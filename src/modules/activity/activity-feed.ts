import { INBOX_CHANGED, MESSAGE_ADDED, PARTICIPANTS_CHANGED, type TopicEvent, type InboxChangedEvent, type ParticipantsChangedEvent } from '../../events/event-bus';
import { LiveFeed } from '../../live/live-feed';
import { fromMessageData } from '../messages/message-data';
import { visibleTo } from '../messages/message-feed';
import type { User } from '../users/user.entity';
import { ThreadActivity, ThreadActivityKind } from './thread-activity.type';

/**
 * One viewer's dashboard feed (threadActivity): their messages (as
 * messageAdded's), the participants changes of their threads and the changes
 * of their teams' inboxes. The hub brings only events addressed to them; the
 * key of each is its kind, as the viewer sees it. Each topic keeps its own
 * order; an ADDED_TO_THREAD and the thread's first message come from two
 * topics, so a client must not rely on which of the two arrives first (both
 * name the thread).
 */
export class ActivityFeed extends LiveFeed<User> {
  constructor(
    viewer: User,
    private readonly onStart: () => Promise<void>,
  ) {
    super(viewer);
  }

  keyOf(event: TopicEvent): ThreadActivityKind | null {
    switch (event.topic) {
      case MESSAGE_ADDED:
        return visibleTo(this.viewer, event.payload.message) ? ThreadActivityKind.MESSAGE_ADDED : null;
      case PARTICIPANTS_CHANGED:
        return changeKind(event.payload, this.viewer.id);
      case INBOX_CHANGED:
        return inboxKind(event.payload);
      default:
        return null;
    }
  }

  rootOf(event: TopicEvent, kind: ThreadActivityKind): ThreadActivity {
    const activity = Object.assign(new ThreadActivity(), { kind, message: null, teamId: null });
    switch (event.topic) {
      case MESSAGE_ADDED: {
        const message = fromMessageData(event.payload.message);
        return Object.assign(activity, { threadId: message.threadId, message, at: message.createdAt });
      }
      case INBOX_CHANGED:
        return Object.assign(activity, { threadId: event.payload.threadId, teamId: event.payload.teamId, at: new Date(event.payload.at) });
      case PARTICIPANTS_CHANGED:
        return Object.assign(activity, { threadId: event.payload.threadId, at: new Date(event.payload.at) });
      default:
        throw new Error(`no thread activity of ${event.topic}`);
    }
  }

  override started(): Promise<void> {
    return this.onStart();
  }
}

/**
 * What a participants change is to one viewer who may hear of it; null for
 * the creator of a new thread, who was added to nothing (their clients see
 * the thread with its first message).
 */
export function changeKind(event: ParticipantsChangedEvent, viewerId: string): ThreadActivityKind | null {
  if (event.removedIds.includes(viewerId)) return event.actorId === viewerId ? ThreadActivityKind.LEFT_THREAD : ThreadActivityKind.REMOVED_FROM_THREAD;
  if (event.addedIds.includes(viewerId)) return ThreadActivityKind.ADDED_TO_THREAD;
  return event.created ? null : ThreadActivityKind.PARTICIPANTS_CHANGED;
}

const inboxKind = (event: InboxChangedEvent) => (event.escalated ? ThreadActivityKind.ESCALATED : ThreadActivityKind.INBOX_CHANGED);
