import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { LiveAudience } from '../../live/audience';
import { Viewer } from '../auth/viewer.decorator';
import { Organisation } from '../organisations/organisation.entity';
import { isContactable, User } from '../users/user.entity';
import { Team } from './team.entity';
import type { TeamService } from './team.service';

@Resolver(() => Team)
export class TeamResolver {
  constructor(private readonly deps: { teams: TeamService }) {}

  @Query(() => [Team])
  teams(@Viewer() viewer: User): Promise<Team[]> {
    return this.deps.teams.list(viewer);
  }

  @Mutation(() => Team, { description: 'Admins only.' })
  createTeam(
    @Viewer() viewer: User,
    @Arg('name') name: string,
    @Arg('autoCc', () => Boolean, { defaultValue: false, nullable: true }) autoCc: boolean | null,
  ): Promise<Team> {
    return this.deps.teams.create(viewer, name, autoCc ?? false);
  }

  @Mutation(() => Team, {
    description: 'Admins only. A contactable, enabled professional joining an auto-CC team also joins the threads open in its inbox (through the team, nothing read).',
  })
  addTeamMember(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('userId', () => ID) userId: string,
  ): Promise<Team> {
    return this.deps.teams.addMember(viewer, teamId, userId);
  }

  @Mutation(() => Team, {
    description:
      "Admins only. The member leaves the threads they were in only through the team (not those another of their teams has, nor those they were added to directly or created), and is unassigned in the team's inbox. Refused below the team's coverage minimum.",
  })
  removeTeamMember(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('userId', () => ID) userId: string,
  ): Promise<Team> {
    return this.deps.teams.removeMember(viewer, teamId, userId);
  }

  @Mutation(() => Team, { description: 'Admins only.' })
  setTeamAutoCc(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('enabled') enabled: boolean,
  ): Promise<Team> {
    return this.deps.teams.setAutoCc(viewer, teamId, enabled);
  }

  @Mutation(() => Team, {
    description:
      'Admins only. The number of contactable members an auto-CC team keeps, from 0 to 100: a member marking themself not contactable, or a removal, that would take the team below it is refused. Raising it above the current count only refuses further decreases.',
  })
  setTeamCoverageMinimum(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('minimum', () => Int) minimum: number,
  ): Promise<Team> {
    return this.deps.teams.setCoverageMinimum(viewer, teamId, minimum);
  }

  @Mutation(() => Organisation, {
    description:
      "Platform admins only: whether the organisation's admins may turn automatic CC on for its teams. Disallowing it turns it off in each of its teams that has it; existing threads keep their participants.",
  })
  setOrganisationAutoCc(
    @Viewer() viewer: User,
    @Arg('organisationId', () => ID) organisationId: string,
    @Arg('allowed') allowed: boolean,
  ): Promise<Organisation> {
    return this.deps.teams.setOrganisationAutoCc(viewer, organisationId, allowed);
  }

  @FieldResolver(() => Organisation)
  @LiveAudience('shared')
  async organisation(@Root() team: Team, @Ctx() ctx: Context): Promise<Organisation> {
    return (await ctx.loaders.organisation.load(team.organisationId))!;
  }

  @FieldResolver(() => [User])
  members(@Root() team: Team, @Ctx() ctx: Context): Promise<User[]> {
    return ctx.loaders.membersOfTeam.load(team.id);
  }

  @FieldResolver(() => [User])
  async contactableMembers(@Root() team: Team, @Ctx() ctx: Context): Promise<User[]> {
    return (await ctx.loaders.membersOfTeam.load(team.id)).filter(isContactable);
  }
}
