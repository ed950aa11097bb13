import { INBOX_CHANGED, PARTICIPANTS_CHANGED, type EventBus } from '../../events/event-bus';
import type { MessageService } from '../messages/message.service';
import type { ThreadAccess } from '../threads/thread.access';
import type { User } from '../users/user.entity';
import { activityFeed } from './activity-feed';
import type { ThreadActivity } from './thread-activity.type';

/** The dashboard feed: what happens to a user's threads, live. */
export class ActivityService {
  private readonly events: EventBus;
  private readonly access: ThreadAccess;
  private readonly messages: MessageService;

  constructor(deps: { events: EventBus; access: ThreadAccess; messages: MessageService }) {
    ({ events: this.events, access: this.access, messages: this.messages } = deps);
  }

  /**
   * The viewer's live thread activity. Who hears of what is decided per event
   * from the participants the event carries (no query per subscriber per
   * event): messages as for messageAdded, participants changes through
   * ThreadAccess.canReceiveParticipantsChange, inbox changes by the team
   * members each names.
   */
  async stream(viewer: User): Promise<AsyncIterable<ThreadActivity>> {
    return activityFeed({
      viewerId: viewer.id,
      messages: await this.messages.stream(viewer),
      changes: this.events.subscribe(PARTICIPANTS_CHANGED),
      canReceiveChange: (event, userId) => this.access.canReceiveParticipantsChange(event, userId),
      inboxChanges: this.events.subscribe(INBOX_CHANGED),
    });
  }
}
