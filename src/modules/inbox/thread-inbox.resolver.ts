import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Viewer } from '../auth/viewer.decorator';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import type { User } from '../users/user.entity';

@Resolver(() => Thread)
export class ThreadInboxResolver {
  @FieldResolver(() => [ThreadTeam], {
    description: "The thread in the inboxes of the caller's teams: status, assignee, waiting time. Empty for everyone else, patients included.",
  })
  async inbox(@Root() thread: Thread, @Viewer() viewer: User, @Ctx() ctx: Context): Promise<ThreadTeam[]> {
    await ctx.app.access.assertVisible(ctx.loaders, viewer.id, thread.id);
    return ctx.loaders.inboxOfThread.load(thread.id);
  }
}
