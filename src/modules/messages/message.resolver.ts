import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription, UseMiddleware } from 'type-graphql';
import type { Metrics } from '../../metrics/metrics';
import { requireViewer, type Context } from '../../request-context';
import { notFound } from '../../errors';
import type { MessageAddedEvent } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import { AuditDenials, recordingDenials } from '../audit/audit-denials';
import { LiveAudience } from '../../live/audience';
import { Viewer } from '../auth/viewer.decorator';
import { Thread } from '../threads/thread.entity';
import { User } from '../users/user.entity';
import { fromMessageData } from './message-data';
import { Message } from './message.entity';
import { sentHere } from './sent-here';
import type { MessageFeed } from './message-feed';
import type { MessageService } from './message.service';
import { seesStaffNotes } from './staff-notes';
import { ATTACHMENT_IDS } from '../attachments/attachment-rules';

@Resolver(() => Message)
export class MessageResolver {
  constructor(private readonly deps: { messages: MessageService; metrics: Metrics }) {}

  @Mutation(() => Message, {
    description:
      'clientMessageId makes a retry safe: the same caller, thread and clientMessageId return the first message instead of a copy.',
  })
  @UseMiddleware(AuditDenials(AuditAction.MessageSent))
  sendMessage(
    @Viewer() viewer: User,
    @Arg('threadId', () => ID) threadId: string,
    @Arg('body') body: string,
    @Arg('clientMessageId', () => String, { nullable: true }) clientMessageId: string | null | undefined,
    @Arg('staffOnly', () => Boolean, {
      defaultValue: false,
      nullable: true,
      description: 'A note for the professionals in the thread only (professionals may post one; patients never see it).',
    })
    staffOnly: boolean | null,
    @Arg('attachmentIds', () => [ID], { nullable: true, description: ATTACHMENT_IDS }) attachmentIds: string[] | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<Message> {
    // The message's author is the caller, read for this request: `author` reads them no second time.
    ctx.loaders.user.prime(viewer.id, viewer);
    return this.deps.metrics.timeSend('sendMessage', () => this.deps.messages.send(viewer, threadId, body, clientMessageId, staffOnly ?? false, attachmentIds ?? []));
  }

  @Subscription(() => Message, {
    description: "New messages in the caller's threads (or in one thread). Participation is checked on every event.",
    subscribe: ({ args, context }) => (context as Context).container.get(MessageResolver).stream(context as Context, args.threadId),
  })
  messageAdded(
    @Root() event: MessageAddedEvent,
    // Read by `subscribe` above; declared here so that it is part of the schema.
    @Arg('threadId', () => ID, { nullable: true }) _threadId: string | null | undefined,
    @Ctx() ctx: Context,
  ): Message {
    // Sent on this instance: `author` reads the author no second time.
    const author = sentHere(event)?.author;
    if (author) ctx.loaders.user.prime(author.id, author);
    return fromMessageData(event.message);
  }

  /** The live feed behind messageAdded (its `subscribe`); a refusal is recorded as a denied THREAD_READ. */
  stream(context: Context, threadId: string | null | undefined): Promise<MessageFeed> {
    return recordingDenials(context, AuditAction.ThreadRead, threadId, () => this.deps.messages.stream(requireViewer(context), threadId));
  }

  /**
   * The thread as it is now: NOT_FOUND to someone who has left it since the message came.
   * Live, its recipients were all in it when it committed.
   */
  @FieldResolver(() => Thread)
  @LiveAudience('shared')
  async thread(@Root() message: Message, @Ctx() ctx: Context): Promise<Thread> {
    const thread = await ctx.loaders.thread.load(message.threadId);
    if (!thread) throw notFound('Thread');
    return thread;
  }

  @FieldResolver(() => User)
  @LiveAudience('shared')
  author(@Root() message: Message, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(message.authorId);
  }

  @FieldResolver(() => [User], { description: 'Participants other than the author who have read this message.' })
  @LiveAudience('shared')
  async readBy(@Root() message: Message, @Ctx() ctx: Context): Promise<User[]> {
    const participants = await ctx.loaders.participantsOfThread.load(message.threadId);
    const readerIds = participants.filter((p) => p.userId !== message.authorId && p.lastReadSeq >= message.seq).map((p) => p.userId);
    const users = await ctx.loaders.user.loadMany(readerIds);
    // A patient's read mark passes over staff-only notes they never saw: it does not mean they read one.
    return users.filter((u): u is User => u instanceof User && (!message.staffOnly || seesStaffNotes(u)));
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      "When someone in the care team (a professional other than the author) first read this message. Shown to the message's author only, null for everyone else; never says who.",
  })
  @LiveAudience('author')
  readByCareTeamAt(@Root() message: Message, @Viewer() viewer: User): Date | null {
    return forAuthorOnly(message, viewer, message.readByCareTeamAt);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "The clientMessageId its author sent it with (sendMessage), to match an optimistic message. Shown to the message's author only, null for everyone else.",
  })
  @LiveAudience('author')
  clientMessageId(@Root() message: Message, @Viewer() viewer: User): string | null {
    return forAuthorOnly(message, viewer, message.clientMessageId);
  }
}

/** `value`, something of `message` for its author's eyes only, as `viewer` may see it: null unless they wrote it. */
function forAuthorOnly<T>(message: Message, viewer: User, value: T | null): T | null {
  return message.authorId === viewer.id ? value : null;
}
