import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import type { AuditSearchService } from './audit-search.service';
import { AccessLogConnection, AccessLogEntry, AuditEventConnection, AuditEventFilter } from './audit-search.types';

@Resolver(() => AccessLogEntry)
export class AuditSearchResolver {
  constructor(private readonly deps: { auditSearch: AuditSearchService }) {}

  @Query(() => AuditEventConnection, { description: 'Admins only: the events of their organisation matching every filter given, newest first. The search is itself audited.' })
  auditEvents(
    @Viewer() viewer: User,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<AuditEventConnection> {
    return this.deps.auditSearch.search(viewer, filter ?? {}, { first: first ?? 50, after });
  }

  @Query(() => AccessLogConnection, {
    description:
      "Patients only: who saw the caller's threads and messages (read them, were pushed them live, read their audit trail) or tried to, newest first. The caller's own accesses are left out unless includeOwn.",
  })
  myAccessLog(
    @Viewer() viewer: User,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('includeOwn', { defaultValue: false }) includeOwn: boolean,
  ): Promise<AccessLogConnection> {
    return this.deps.auditSearch.accessLog(viewer, { first: first ?? 20, after, includeOwn });
  }

  @FieldResolver(() => User, { description: 'Who saw it: an individual, never a team.' })
  who(@Root() entry: AccessLogEntry, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(entry.userId);
  }

  @FieldResolver(() => Team, { nullable: true, description: 'The team through which they were in the thread, if any.' })
  async team(@Root() entry: AccessLogEntry, @Ctx() ctx: Context): Promise<Team | null> {
    return entry.teamId ? ctx.loaders.team.load(entry.teamId) : null;
  }
}
