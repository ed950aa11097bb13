import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Context } from '../../request-context';
import { AuditAction } from '../audit/audit-action';
import { AuditDenials } from '../audit/audit-denials';
import { Viewer } from '../auth/viewer.decorator';
import { Team } from '../teams/team.entity';
import { InboxStatus, ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import { User } from '../users/user.entity';
import { TeamInboxConnection } from './inbox-connection.type';
import { InboxAssignee } from './inbox-filter';
import type { InboxService } from './inbox.service';

@Resolver(() => ThreadTeam)
export class InboxResolver {
  constructor(private readonly deps: { inbox: InboxService }) {}

  @Query(() => TeamInboxConnection, {
    description:
      "A team's inbox, for its members: the team's threads the caller is in, the longest-waiting patient first, then the rest by latest activity. " +
      'FORBIDDEN for non-members.',
  })
  teamInbox(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('status', () => InboxStatus, { defaultValue: InboxStatus.OPEN, nullable: true }) status: InboxStatus | null,
    @Arg('assignee', () => InboxAssignee, { defaultValue: InboxAssignee.ANYONE, nullable: true }) assignee: InboxAssignee | null,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null | undefined,
  ): Promise<TeamInboxConnection> {
    return this.deps.inbox.list(viewer, teamId, status ?? InboxStatus.OPEN, assignee ?? InboxAssignee.ANYONE, first ?? 20, after);
  }

  @Mutation(() => ThreadTeam, { description: 'The caller takes the thread for the team; refused when another member has it already.' })
  @UseMiddleware(AuditDenials(AuditAction.ThreadAssigned))
  claimThread(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Arg('teamId', () => ID) teamId: string) {
    return this.deps.inbox.claim(viewer, threadId, teamId);
  }

  @Mutation(() => ThreadTeam, { description: 'Assigns the thread to a contactable member of the team who is in the thread.' })
  @UseMiddleware(AuditDenials(AuditAction.ThreadAssigned))
  assignThread(
    @Viewer() viewer: User,
    @Arg('threadId', () => ID) threadId: string,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('userId', () => ID) userId: string,
  ) {
    return this.deps.inbox.assign(viewer, threadId, teamId, userId);
  }

  @Mutation(() => ThreadTeam)
  @UseMiddleware(AuditDenials(AuditAction.ThreadUnassigned))
  unassignThread(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Arg('teamId', () => ID) teamId: string) {
    return this.deps.inbox.unassign(viewer, threadId, teamId);
  }

  @Mutation(() => ThreadTeam, { description: "Done for this team; the patient's next message reopens it and clears the assignee." })
  @UseMiddleware(AuditDenials(AuditAction.ThreadMarkedDone))
  markThreadDone(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Arg('teamId', () => ID) teamId: string) {
    return this.deps.inbox.markDone(viewer, threadId, teamId);
  }

  @Mutation(() => ThreadTeam)
  @UseMiddleware(AuditDenials(AuditAction.ThreadReopened))
  reopenThread(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Arg('teamId', () => ID) teamId: string) {
    return this.deps.inbox.reopen(viewer, threadId, teamId);
  }

  @Mutation(() => Team, {
    description:
      "Admins and the team's members: how long a patient's message may wait for a professional's reply before the team's members in the thread are alerted " +
      '(1 to 10080 minutes); null turns alerts off.',
  })
  setTeamWaitingLimit(
    @Viewer() viewer: User,
    @Arg('teamId', () => ID) teamId: string,
    @Arg('minutes', () => Int, { nullable: true }) minutes: number | null,
  ): Promise<Team> {
    return this.deps.inbox.setWaitingLimit(viewer, teamId, minutes ?? null);
  }

  @FieldResolver(() => Thread)
  async thread(@Root() item: ThreadTeam, @Ctx() ctx: Context): Promise<Thread> {
    return item.thread ?? (await ctx.loaders.thread.load(item.threadId))!;
  }

  @FieldResolver(() => Team)
  async team(@Root() item: ThreadTeam, @Ctx() ctx: Context): Promise<Team> {
    return (await ctx.loaders.team.load(item.teamId))!;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'The oldest patient message not yet followed by a reply from a professional; null when nothing waits.' })
  async waitingSince(@Root() item: ThreadTeam, @Ctx() ctx: Context): Promise<Date | null> {
    return (await this.thread(item, ctx)).waitingSince;
  }

  @FieldResolver(() => User, { nullable: true })
  assignee(@Root() item: ThreadTeam, @Ctx() ctx: Context): Promise<User | null> | null {
    return item.assigneeId ? ctx.loaders.user.load(item.assigneeId) : null;
  }

  @FieldResolver(() => User, { nullable: true })
  doneBy(@Root() item: ThreadTeam, @Ctx() ctx: Context): Promise<User | null> | null {
    return item.doneById ? ctx.loaders.user.load(item.doneById) : null;
  }
}
