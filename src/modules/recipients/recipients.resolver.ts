import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import { RecipientOption, type TeamRecipient, type UserRecipient } from './recipient-option.type';

@Resolver()
export class RecipientsResolver {
  @Query(() => [RecipientOption], {
    description: 'The options for the recipient drop-down. With threadId: options for adding participants to that thread.',
  })
  recipients(
    @Viewer() viewer: User,
    @Ctx() ctx: Context,
    @Arg('search', () => String, { nullable: true }) search: string | null | undefined,
    @Arg('threadId', () => ID, { nullable: true }) threadId: string | null | undefined,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
  ): Promise<(TeamRecipient | UserRecipient)[]> {
    return ctx.app.recipients.options(viewer, { search, threadId, first: first ?? 50 });
  }
}
