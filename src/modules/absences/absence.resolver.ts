import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import { isProfessional, User } from '../users/user.entity';
import { Absence } from './absence.entity';
import type { AbsenceService } from './absence.service';

@Resolver(() => Absence)
export class AbsenceResolver {
  constructor(private readonly deps: { absences: AbsenceService }) {}

  @Mutation(() => Absence, {
    description:
      'A professional records their own absence (userId left out), or an admin one for any professional of their organisation. The end must be after the start and in the future; ' +
      'a start in the past means away now. The reason (at most 200 characters) is shown to staff only.',
  })
  recordAbsence(
    @Viewer() viewer: User,
    @Arg('userId', () => ID, { nullable: true }) userId: string | null | undefined,
    @Arg('startsAt', () => Date) startsAt: Date,
    @Arg('endsAt', () => Date) endsAt: Date,
    @Arg('reason', () => String, { nullable: true }) reason: string | null | undefined,
  ): Promise<Absence> {
    return this.deps.absences.record(viewer, { userId, startsAt, endsAt, reason });
  }

  @Mutation(() => Boolean, { description: 'Deletes an absence: the professional\'s own, or for an admin any of their organisation\'s. NOT_FOUND for anyone else.' })
  cancelAbsence(@Viewer() viewer: User, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.deps.absences.cancel(viewer, id);
  }
}

/** Who is away, on every user: the time they are back for everyone, the absences themselves for staff only. */
@Resolver(() => User)
export class UserAbsenceResolver {
  @FieldResolver(() => Date, {
    nullable: true,
    description: 'When the user is away now: when they are back (the end of the absences that run on from now). Null when they are not away.',
  })
  async awayUntil(@Root() user: User, @Ctx() ctx: Context): Promise<Date | null> {
    return (await ctx.loaders.absencesOfUser.load(user.id)).awayUntil;
  }

  @FieldResolver(() => [Absence], {
    nullable: true,
    description:
      "The user's current and upcoming absences, with their reasons, the earliest start first. Staff of the user's own organisation only: null for patients, and for another organisation's staff (who see awayUntil).",
  })
  async absences(@Root() user: User, @Ctx() ctx: Context): Promise<Absence[] | null> {
    // Not @Viewer(): a User is also reached through `login`, before there is a viewer.
    if (!ctx.viewer || !isProfessional(ctx.viewer)) return null;
    // Why someone is away is their organisation's business, even in a thread shared with another.
    if (user.organisationId && user.organisationId !== ctx.viewer.organisationId) return null;
    return (await ctx.loaders.absencesOfUser.load(user.id)).absences;
  }
}
