import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { LiveAudience } from '../../live/audience';
import { Viewer } from '../auth/viewer.decorator';
import { Organisation } from '../organisations/organisation.entity';
import { Team } from '../teams/team.entity';
import { CreateUserInput } from './create-user.input';
import { User } from './user.entity';
import type { UserService } from './user.service';

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly deps: { users: UserService }) {}

  @Query(() => User)
  me(@Viewer() viewer: User): User {
    return viewer;
  }

  @Mutation(() => User, { description: 'Admins only.' })
  createUser(@Viewer() viewer: User, @Arg('input') input: CreateUserInput): Promise<User> {
    return this.deps.users.createUser(viewer, input);
  }

  @Mutation(() => User, { description: 'Admins, or the professional themself.' })
  setContactable(
    @Viewer() viewer: User,
    @Arg('userId', () => ID) userId: string,
    @Arg('contactable') contactable: boolean,
  ): Promise<User> {
    return this.deps.users.setContactable(viewer, userId, contactable);
  }

  @Mutation(() => User, {
    description:
      'Admins only. A disabled account cannot sign in, its tokens and live connections stop working at once, and it cannot be picked as a recipient. An admin cannot disable themself.',
  })
  setUserDisabled(
    @Viewer() viewer: User,
    @Arg('userId', () => ID) userId: string,
    @Arg('disabled') disabled: boolean,
  ): Promise<User> {
    return this.deps.users.setDisabled(viewer, userId, disabled);
  }

  @FieldResolver(() => Organisation, { nullable: true, description: 'The organisation of a professional; null for a patient, who shares their record with teams and professionals of any organisation.' })
  @LiveAudience('shared')
  organisation(@Root() user: User, @Ctx() ctx: Context): Promise<Organisation | null> {
    return user.organisationId ? ctx.loaders.organisation.load(user.organisationId) : Promise.resolve(null);
  }

  @FieldResolver(() => [Team])
  @LiveAudience('shared')
  teams(@Root() user: User, @Ctx() ctx: Context): Promise<Team[]> {
    return ctx.loaders.teamsOfUser.load(user.id);
  }
}
