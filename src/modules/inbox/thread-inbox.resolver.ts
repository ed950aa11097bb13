import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import type { ThreadAccess } from '../threads/thread.access';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import type { User } from '../users/user.entity';

@Resolver(() => Thread)
export class ThreadInboxResolver {
  constructor(private readonly deps: { access: ThreadAccess }) {}

  @FieldResolver(() => [ThreadTeam], {
    description: "The thread in the inboxes of the caller's teams: status, assignee, waiting time. Empty for everyone else, patients included.",
  })
  async inbox(@Root() thread: Thread, @Viewer() viewer: User, @Ctx() ctx: Context): Promise<ThreadTeam[]> {
    await this.deps.access.assertVisible(ctx.loaders, viewer.id, thread.id);
    return ctx.loaders.inboxOfThread.load(thread.id);
  }
}
