import { MESSAGE_ADDED, type TopicEvent, type MessageData } from '../../events/event-bus';
import { LiveFeed } from '../../live/live-feed';
import type { User } from '../users/user.entity';
import { seesStaffNotes } from './staff-notes';

/** The root key of a message: every recipient who may see it shares its root value, the event itself. */
export const MESSAGE_KEY = 'message';

/**
 * One viewer's live messages (messageAdded): those of their threads, or of
 * one, that they may see. The hub brings only messages addressed to them, in
 * each thread's order, each once (message-sequencer.ts).
 */
export class MessageFeed extends LiveFeed<User> {
  constructor(
    viewer: User,
    private readonly threadId: string | null,
    private readonly onStart: () => Promise<void>,
  ) {
    super(viewer);
  }

  keyOf(event: TopicEvent): string | null {
    if (event.topic !== MESSAGE_ADDED) return null;
    const { message } = event.payload;
    if (this.threadId && message.threadId !== this.threadId) return null;
    return visibleTo(this.viewer, message) ? MESSAGE_KEY : null;
  }

  rootOf(event: TopicEvent): unknown {
    return event.payload;
  }

  override started(): Promise<void> {
    return this.onStart();
  }
}

/** Whether a viewer may receive a message addressed to them: a patient never sees a staff-only note. */
export const visibleTo = (viewer: Pick<User, 'kind'>, message: MessageData): boolean => !message.staffOnly || seesStaffNotes(viewer);
