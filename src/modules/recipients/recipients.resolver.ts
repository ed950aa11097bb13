import { Arg, ID, Int, Query, Resolver } from 'type-graphql';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import { RecipientOption, type TeamRecipient, type UserRecipient } from './recipient-option.type';
import type { RecipientService } from './recipients.service';

@Resolver()
export class RecipientsResolver {
  constructor(private readonly deps: { recipients: RecipientService }) {}

  @Query(() => [RecipientOption], {
    description: 'The options for the recipient drop-down. With threadId: options for adding participants to that thread.',
  })
  recipients(
    @Viewer() viewer: User,
    @Arg('search', () => String, { nullable: true }) search: string | null | undefined,
    @Arg('threadId', () => ID, { nullable: true }) threadId: string | null | undefined,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
  ): Promise<(TeamRecipient | UserRecipient)[]> {
    return this.deps.recipients.options(viewer, { search, threadId, first: first ?? 50 });
  }
}
