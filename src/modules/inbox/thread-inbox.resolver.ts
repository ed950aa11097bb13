import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import type { ThreadAccess } from '../threads/thread.access';
import { ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';

@Resolver(() => Thread)
export class ThreadInboxResolver {
  constructor(private readonly deps: { access: ThreadAccess }) {}

  @FieldResolver(() => [ThreadTeam], {
    description: "The thread in the inboxes of the caller's teams: status, assignee, waiting time. Empty for everyone else, patients included.",
  })
  async inbox(@Root() thread: Thread, @Ctx() ctx: Context): Promise<ThreadTeam[]> {
    await this.deps.access.loadVisible(ctx.loaders, thread.id);
    return ctx.loaders.inboxOfThread.load(thread.id);
  }
}
