import { createUnionType, Field, ID, Int, ObjectType } from 'type-graphql';
import { derivedId } from '../../common/ids';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';

@ObjectType({ description: 'A team offered as a single option. members: the users that picking it would add now.' })
export class TeamRecipient {
  @Field(() => ID, {
    description: 'The same for the same team and threadId in every query; the options for a thread (whose members leave out its participants) have ids of their own.',
  })
  id!: string;

  @Field(() => Team)
  team!: Team;

  @Field(() => [User])
  members!: User[];

  @Field(() => Int, {
    description:
      'How many members a message to this team reaches: its contactable, enabled members other than the caller. Unlike members, those already in the thread (with threadId) are counted.',
  })
  reachCount!: number;
}

@ObjectType()
export class UserRecipient {
  @Field(() => ID, { description: 'The same for the same user in every query.' })
  get id(): string {
    return derivedId('UserRecipient', this.user.id);
  }

  @Field(() => User)
  user!: User;
}

export const RecipientOption = createUnionType({
  name: 'RecipientOption',
  types: () => [TeamRecipient, UserRecipient] as const,
  resolveType: (option) => (option instanceof TeamRecipient ? TeamRecipient : UserRecipient),
});
