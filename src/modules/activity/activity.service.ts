import type { MessageService } from '../messages/message.service';
import type { User } from '../users/user.entity';
import { ActivityFeed } from './activity-feed';

/** The dashboard feed: what happens to a user's threads, live. */
export class ActivityService {
  private readonly messages: MessageService;

  constructor(deps: { messages: MessageService }) {
    ({ messages: this.messages } = deps);
  }

  /**
   * The viewer's live thread activity. Who hears of what is decided per event
   * from the recipients the event carries (no query per subscriber per event):
   * messages as for messageAdded, participants changes by the participants
   * and those removed, inbox changes by the team members each names.
   */
  async stream(viewer: User): Promise<ActivityFeed> {
    const messages = await this.messages.stream(viewer);
    return new ActivityFeed(viewer, () => messages.started());
  }
}
