import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { AuditAction } from './audit-action';
import { AuditDenials } from './audit-denials';
import { AuditEvent } from './audit-event.entity';
import type { AuditService } from './audit.service';

@Resolver(() => AuditEvent)
export class AuditResolver {
  constructor(private readonly deps: { audit: Pick<AuditService, 'trail'> }) {}

  @Query(() => [AuditEvent], { description: 'Who did what in a thread, oldest first. Participants; admins, for the events of their organisation.' })
  @UseMiddleware(AuditDenials(AuditAction.AuditTrailRead))
  auditTrail(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string): Promise<AuditEvent[]> {
    return this.deps.audit.trail(viewer, threadId);
  }

  @FieldResolver(() => User, { description: 'The individual who acted; never a team or a shared account.' })
  actor(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(event.actorId);
  }

  @FieldResolver(() => Team, { nullable: true, description: 'The team through which the actor took part in the thread, if any.' })
  async actorTeam(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<Team | null> {
    return event.actorTeamId ? ctx.loaders.team.load(event.actorTeamId) : null;
  }

  @FieldResolver(() => Team, { nullable: true, description: 'The team the event is about (TEAM_* actions, sharing a record with a team).' })
  async team(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<Team | null> {
    return event.teamId ? ctx.loaders.team.load(event.teamId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Admins only (null for others): the request that caused it, as in its X-Request-Id response header.' })
  requestId(@Root() event: AuditEvent, @Viewer() viewer: User): string | null {
    return viewer.isAdmin ? event.requestId : null;
  }

  @FieldResolver(() => String, { nullable: true, description: "Admins only (null for others): the client's IP address." })
  clientIp(@Root() event: AuditEvent, @Viewer() viewer: User): string | null {
    return viewer.isAdmin ? event.clientIp : null;
  }

  @FieldResolver(() => String, { nullable: true, description: "Admins only (null for others): the client's User-Agent." })
  userAgent(@Root() event: AuditEvent, @Viewer() viewer: User): string | null {
    return viewer.isAdmin ? event.userAgent : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Admins only (null for others): the server instance that wrote it.' })
  instanceId(@Root() event: AuditEvent, @Viewer() viewer: User): string | null {
    return viewer.isAdmin ? event.instanceId : null;
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user acted upon, e.g. the participant added.' })
  async subject(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<User | null> {
    return event.subjectUserId ? ctx.loaders.user.load(event.subjectUserId) : null;
  }
}
