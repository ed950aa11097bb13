import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { Context } from '../../context';
import { AuditAction } from '../audit/audit-action';
import { AuditDenials } from '../audit/audit-denials';
import { Viewer } from '../auth/viewer.decorator';
import { MessageConnection } from '../messages/message-connection.type';
import { Message } from '../messages/message.entity';
import { RecipientInput } from '../recipients/recipient.input';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { Participant } from './participant.entity';
import { ThreadConnection } from './thread-connection.type';
import { Thread } from './thread.entity';

@Resolver(() => Thread)
export class ThreadResolver {
  @Query(() => ThreadConnection, { description: "The caller's threads, most recent activity first." })
  threads(
    @Viewer() viewer: User,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null | undefined,
  ): Promise<ThreadConnection> {
    return ctx.app.threads.list(viewer, first ?? 20, after);
  }

  @Query(() => Thread, { nullable: true })
  @UseMiddleware(AuditDenials(AuditAction.ThreadRead, 'id'))
  thread(@Viewer() viewer: User, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Thread> {
    return ctx.app.threads.get(viewer, id);
  }

  @Mutation(() => Thread)
  createThread(
    @Viewer() viewer: User,
    @Arg('subject') subject: string,
    @Arg('body') body: string,
    @Arg('recipients', () => [RecipientInput]) recipients: RecipientInput[],
    @Ctx() ctx: Context,
  ): Promise<Thread> {
    return ctx.app.metrics.timeSend('createThread', () => ctx.app.threads.create(viewer, subject, body, recipients));
  }

  @Mutation(() => Thread)
  @UseMiddleware(AuditDenials(AuditAction.ParticipantAdded))
  addParticipants(
    @Viewer() viewer: User,
    @Arg('threadId', () => ID) threadId: string,
    @Arg('recipients', () => [RecipientInput]) recipients: RecipientInput[],
    @Ctx() ctx: Context,
  ): Promise<Thread> {
    return ctx.app.threads.addParticipants(viewer, threadId, recipients);
  }

  @Mutation(() => Boolean)
  @UseMiddleware(AuditDenials(AuditAction.ParticipantLeft))
  leaveThread(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.app.threads.leave(viewer, threadId);
  }

  @Mutation(() => Thread)
  @UseMiddleware(AuditDenials(AuditAction.ThreadMarkedRead))
  markThreadRead(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Ctx() ctx: Context): Promise<Thread> {
    return ctx.app.threads.markRead(viewer, threadId);
  }

  @FieldResolver(() => User)
  async createdBy(@Root() thread: Thread, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(thread.createdById);
  }

  // The subject, participants and messages are the thread's data: reading any of them is
  // recorded (THREAD_READ, once per thread per request) before it is returned.
  @FieldResolver(() => String)
  async subject(@Root() thread: Thread, @Ctx() ctx: Context): Promise<string> {
    await ctx.threadReads.load(thread.id);
    return thread.subject;
  }

  @FieldResolver(() => [Participant], { description: 'Current participants only; someone who left is no longer listed.' })
  async participants(@Root() thread: Thread, @Ctx() ctx: Context): Promise<Participant[]> {
    const participants = await ctx.loaders.participantsOfThread.load(thread.id);
    await ctx.threadReads.load(thread.id);
    return participants;
  }

  @FieldResolver(() => [Team], { description: 'Auto-CC teams that were picked as recipients of this thread.' })
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
    await ctx.app.access.assertVisible(ctx.loaders, viewer.id, thread.id);
    const page = await ctx.app.messages.page(viewer, thread.id, first ?? 50, after);
    await ctx.threadReads.load(thread.id);
    return page;
  }

  @FieldResolver(() => Message, { nullable: true })
  async lastMessage(@Root() thread: Thread, @Viewer() viewer: User, @Ctx() ctx: Context): Promise<Message | null> {
    await ctx.app.access.assertVisible(ctx.loaders, viewer.id, thread.id);
    const message = await ctx.loaders.lastMessageOfThread.load(thread.id);
    if (message) await ctx.threadReads.load(thread.id);
    return message;
  }

  @FieldResolver(() => Int, { description: "Messages by others, newer than the caller's lastReadAt." })
  unreadCount(@Root() thread: Thread, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.unreadCount.load(thread.id);
  }
}
