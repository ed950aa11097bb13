import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Metrics } from '../../metrics/metrics';
import { requireViewer, type Context } from '../../request-context';
import { LiveAudience } from '../../live/audience';
import { AuditAction } from '../audit/audit-action';
import { AuditDenials } from '../audit/audit-denials';
import { Viewer } from '../auth/viewer.decorator';
import { MessageConnection } from '../messages/message-connection.type';
import { Message } from '../messages/message.entity';
import type { MessageService } from '../messages/message.service';
import { RecipientInput } from '../recipients/recipient.input';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { Participant } from './participant.entity';
import { ThreadConnection } from './thread-connection.type';
import type { ThreadAccess } from './thread.access';
import { Thread } from './thread.entity';
import { ATTACHMENT_IDS } from '../attachments/attachment-rules';
import type { ThreadService } from './thread.service';

@Resolver(() => Thread)
export class ThreadResolver {
  constructor(private readonly deps: { threads: ThreadService; messages: MessageService; access: ThreadAccess; metrics: Metrics }) {}

  @Query(() => ThreadConnection, { description: "The caller's threads, most recent activity first." })
  threads(
    @Viewer() viewer: User,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null | undefined,
  ): Promise<ThreadConnection> {
    return this.deps.threads.list(viewer, first ?? 20, after);
  }

  @Query(() => Thread, { nullable: true })
  @UseMiddleware(AuditDenials(AuditAction.ThreadRead, 'id'))
  thread(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Thread> {
    requireViewer(ctx);
    return this.deps.access.loadVisible(ctx.loaders, id);
  }

  @Mutation(() => Thread)
  createThread(
    @Viewer() viewer: User,
    @Arg('subject') subject: string,
    @Arg('body') body: string,
    @Arg('recipients', () => [RecipientInput]) recipients: RecipientInput[],
    @Arg('attachmentIds', () => [ID], { nullable: true, description: ATTACHMENT_IDS }) attachmentIds: string[] | null | undefined,
  ): Promise<Thread> {
    return this.deps.metrics.timeSend('createThread', () => this.deps.threads.create(viewer, subject, body, recipients, attachmentIds ?? []));
  }

  @Mutation(() => Thread)
  @UseMiddleware(AuditDenials(AuditAction.ParticipantAdded))
  addParticipants(
    @Viewer() viewer: User,
    @Arg('threadId', () => ID) threadId: string,
    @Arg('recipients', () => [RecipientInput]) recipients: RecipientInput[],
  ): Promise<Thread> {
    return this.deps.threads.addParticipants(viewer, threadId, recipients);
  }

  @Mutation(() => Boolean)
  @UseMiddleware(AuditDenials(AuditAction.ParticipantLeft))
  leaveThread(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string): Promise<boolean> {
    return this.deps.threads.leave(viewer, threadId);
  }

  @Mutation(() => Thread)
  @UseMiddleware(AuditDenials(AuditAction.ThreadMarkedRead))
  markThreadRead(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string): Promise<Thread> {
    return this.deps.threads.markRead(viewer, threadId);
  }

  @FieldResolver(() => User)
  @LiveAudience('shared')
  async createdBy(@Root() thread: Thread, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(thread.createdById);
  }

  // Reading the subject, participants, messages or lastMessage (any field not in THREAD_METADATA)
  // is recorded as THREAD_READ by auditThreadReads (thread-reads.middleware.ts).

  @FieldResolver(() => [Participant], { description: 'Current participants only; someone who left is no longer listed.' })
  participants(@Root() thread: Thread, @Ctx() ctx: Context): Promise<Participant[]> {
    return ctx.loaders.participantsOfThread.load(thread.id);
  }

  @FieldResolver(() => [Team], { description: 'Auto-CC teams that were picked as recipients of this thread.' })
  @LiveAudience('shared')
  teams(@Root() thread: Thread, @Ctx() ctx: Context): Promise<Team[]> {
    return ctx.loaders.teamsOfThread.load(thread.id);
  }

  @FieldResolver(() => MessageConnection, { description: 'Oldest first; after is an endCursor from an earlier page.' })
  async messages(
    @Root() thread: Thread,
    @Viewer() viewer: User,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null | undefined,
  ): Promise<MessageConnection> {
    await this.deps.access.loadVisible(ctx.loaders, thread.id);
    return this.deps.messages.page(viewer, thread.id, first ?? 50, after);
  }

  @FieldResolver(() => Message, { nullable: true })
  async lastMessage(@Root() thread: Thread, @Ctx() ctx: Context): Promise<Message | null> {
    await this.deps.access.loadVisible(ctx.loaders, thread.id);
    return ctx.loaders.lastMessageOfThread.load(thread.id);
  }

  @FieldResolver(() => Int, { description: "Messages by others, newer than the caller's lastReadAt." })
  unreadCount(@Root() thread: Thread, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.unreadCount.load(thread.id);
  }
}
