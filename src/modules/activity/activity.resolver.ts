import { Ctx, FieldResolver, Resolver, Root, Subscription } from 'type-graphql';
import { requireViewer, type Context } from '../../context';
import { Viewer } from '../auth/viewer.decorator';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import type { User } from '../users/user.entity';
import { ThreadActivity } from './thread-activity.type';

@Resolver(() => ThreadActivity)
export class ActivityResolver {
  @Subscription(() => ThreadActivity, {
    description:
      "The caller's dashboard feed: being added to a thread (including as a recipient of a new one), participants joining or leaving the caller's threads, " +
      "their new messages, the caller leaving or being removed, and for team members their teams' inbox changes and escalation alerts. Who hears of what is checked on every event. " +
      'The creator of a thread hears of it only through its first message.',
    subscribe: ({ context }) => (context as Context).app.activity.stream(requireViewer(context as Context)),
  })
  threadActivity(@Root() activity: ThreadActivity): ThreadActivity {
    return activity;
  }

  @FieldResolver(() => ThreadTeam, {
    nullable: true,
    description: "For INBOX_CHANGED and ESCALATED: the thread in the team's inbox as it is now; null when the caller can no longer see it there.",
  })
  async inbox(@Root() activity: ThreadActivity, @Viewer() viewer: User, @Ctx() ctx: Context): Promise<ThreadTeam | null> {
    if (!activity.teamId || !(await ctx.app.access.isVisible(ctx.loaders, viewer.id, activity.threadId))) return null;
    return (await ctx.loaders.inboxOfThread.load(activity.threadId)).find((item) => item.teamId === activity.teamId) ?? null;
  }

  @FieldResolver(() => Thread, { nullable: true, description: 'The thread as it is now; null when the caller can no longer see it (after LEFT_THREAD or REMOVED_FROM_THREAD).' })
  async thread(@Root() activity: ThreadActivity, @Viewer() viewer: User, @Ctx() ctx: Context): Promise<Thread | null> {
    if (!(await ctx.app.access.isVisible(ctx.loaders, viewer.id, activity.threadId))) return null;
    return ctx.loaders.thread.load(activity.threadId);
  }
}
