import { Ctx, FieldResolver, Resolver, Root, Subscription } from 'type-graphql';
import { requireViewer, type Context } from '../../request-context';
import type { ThreadAccess } from '../threads/thread.access';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import type { ActivityFeed } from './activity-feed';
import type { ActivityService } from './activity.service';
import { ThreadActivity } from './thread-activity.type';

@Resolver(() => ThreadActivity)
export class ActivityResolver {
  constructor(private readonly deps: { activity: ActivityService; access: ThreadAccess }) {}

  @Subscription(() => ThreadActivity, {
    description:
      "The caller's dashboard feed: being added to a thread (including as a recipient of a new one), participants joining or leaving the caller's threads, " +
      "their new messages, the caller leaving or being removed, and for team members their teams' inbox changes and escalation alerts. Who hears of what is checked on every event. " +
      'The creator of a thread hears of it only through its first message.',
    subscribe: ({ context }) => (context as Context).container.get(ActivityResolver).stream(context as Context),
  })
  threadActivity(@Root() activity: ThreadActivity): ThreadActivity {
    return activity;
  }

  /** The live feed behind threadActivity (its `subscribe`). */
  stream(context: Context): Promise<ActivityFeed> {
    return this.deps.activity.stream(requireViewer(context));
  }

  @FieldResolver(() => ThreadTeam, {
    nullable: true,
    description: "For INBOX_CHANGED and ESCALATED: the thread in the team's inbox as it is now; null when the caller can no longer see it there.",
  })
  async inbox(@Root() activity: ThreadActivity, @Ctx() ctx: Context): Promise<ThreadTeam | null> {
    if (!activity.teamId || !(await this.deps.access.isVisible(ctx.loaders, activity.threadId))) return null;
    return (await ctx.loaders.inboxOfThread.load(activity.threadId)).find((item) => item.teamId === activity.teamId) ?? null;
  }

  @FieldResolver(() => Thread, { nullable: true, description: 'The thread as it is now; null when the caller can no longer see it (after LEFT_THREAD or REMOVED_FROM_THREAD).' })
  thread(@Root() activity: ThreadActivity, @Ctx() ctx: Context): Promise<Thread | null> {
    return ctx.loaders.thread.load(activity.threadId);
  }
}
