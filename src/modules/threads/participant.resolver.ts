import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { Participant } from './participant.entity';

@Resolver(() => Participant)
export class ParticipantResolver {
  @FieldResolver(() => User)
  user(@Root() participant: Participant, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(participant.userId);
  }

  @FieldResolver(() => User, { nullable: true, description: "Who added this participant; null for the thread's creator." })
  async addedBy(@Root() participant: Participant, @Ctx() ctx: Context): Promise<User | null> {
    return participant.addedById ? ctx.loaders.user.load(participant.addedById) : null;
  }

  @FieldResolver(() => Team, { nullable: true, description: 'The auto-CC team through which this participant was added, if any.' })
  async viaTeam(@Root() participant: Participant, @Ctx() ctx: Context): Promise<Team | null> {
    return participant.viaTeamId ? ctx.loaders.team.load(participant.viaTeamId) : null;
  }
}
