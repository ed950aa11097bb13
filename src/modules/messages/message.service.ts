import { In, type DataSource, type EntityManager } from 'typeorm';
import { isId, newId } from '../../common/ids';
import { checkPageSize, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import type { AttachmentService } from '../attachments/attachment.service';
import { checkAttachmentIds } from '../attachments/attachment-rules';
import { attachmentsOfMessages } from '../attachments/message-attachments';
import { isUniqueViolation } from '../../database/errors';
import { insertRows } from '../../database/insert-rows';
import { badUserInput, forbidden, notFound } from '../../errors';
import { MESSAGE_ADDED, type EventBus, type MessageAddedEvent } from '../../events/event-bus';
import { MESSAGE_STORED } from '../../events/tx-events';
import type { Logger } from '../../logger';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork } from '../audit/audit-entry';
import { Participant } from '../threads/participant.entity';
import { participantFacts } from '../threads/participants';
import type { ThreadAccess } from '../threads/thread.access';
import { visibleMessages, visibleThreads } from '../threads/thread-visibility';
import { Thread } from '../threads/thread.entity';
import type { User } from '../users/user.entity';
import { messageBody } from './message-body';
import { toMessageData } from './message-data';
import { MessageFeed } from './message-feed';
import { MessageSequencer } from './message-sequencer';
import { seesStaffNotes } from './staff-notes';
import { Message } from './message.entity';
import { nextMessage } from './next-message';
import { rememberSend } from './sent-here';

const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;

export interface MessageDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  access: ThreadAccess;
  /** Where committed messages arrive, for inOrder. */
  events: EventBus;
  logger: Logger;
  attachments: AttachmentService;
}

export class MessageService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly access: ThreadAccess;
  private readonly events: EventBus;
  private readonly attachments: AttachmentService;
  private readonly sequencer: MessageSequencer;
  private readonly listeners = new Set<(event: MessageAddedEvent) => void>();
  private stopListening: (() => void) | null = null;

  constructor(deps: MessageDeps) {
    ({ db: this.db, uow: this.uow, access: this.access, events: this.events, attachments: this.attachments } = deps);
    this.sequencer = new MessageSequencer({
      missing: (threadId, afterSeq, beforeSeq, later) => this.missing(threadId, afterSeq, beforeSeq, later),
      deliver: (event) => this.listeners.forEach((listener) => listener(event)),
      logger: deps.logger,
    });
  }

  /**
   * Calls `listener` with every committed message this instance hears of, each
   * once, each thread's in sequence order, gaps filled (message-sequencer.ts):
   * what live delivery routes. Returns the unsubscribe.
   */
  inOrder(listener: (event: MessageAddedEvent) => void): () => void {
    this.listeners.add(listener);
    this.stopListening ??= this.events.on(MESSAGE_ADDED, (event) => this.sequencer.accept(event));
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size) return;
      this.stopListening?.();
      this.stopListening = null;
    };
  }

  /**
   * Stores and pushes a message. A retry with the same clientMessageId (same
   * caller and thread) returns the stored message and pushes nothing: the
   * statement that numbers messages refuses a key its author used there
   * already, and the unique constraint settles two first attempts racing.
   * With attachments (the author's uploads, in order) the body may be blank.
   */
  async send(viewer: User, threadId: string, bodyText: string, clientMessageId?: string | null, staffOnly = false, attachmentIds: readonly string[] = []): Promise<Message> {
    if (staffOnly && !seesStaffNotes(viewer)) throw forbidden('Only professionals may post staff-only notes');
    const attached = checkAttachmentIds(attachmentIds);
    const body = messageBody(bodyText, attached.length > 0);
    if (clientMessageId !== undefined && clientMessageId !== null) {
      if (!clientMessageId || clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH) {
        throw badUserInput(`clientMessageId must be 1 to ${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
      }
    }
    const key = clientMessageId ?? null;
    try {
      return await this.uow.run((tx) => this.append(tx, viewer, threadId, body, key, staffOnly, attached));
    } catch (error) {
      if (!key || !isUniqueViolation(error)) throw error;
      // A concurrent retry committed first (after this one's participation check).
      return this.db.manager.findOneByOrFail(Message, { threadId, authorId: viewer.id, clientMessageId: key });
    }
  }

  /**
   * Inside the caller's transaction: numbers the message and takes its time
   * in the one statement that locks the thread's row (next-message.ts; the
   * lock serialises concurrent senders), stores it, reads the participants
   * once, announces it (MESSAGE_STORED for the inbox's listener, MESSAGE_ADDED
   * to those participants, which the outbox publishes after the commit) and
   * audits it with the same participants. NOT_FOUND unless the author is a
   * participant. The author's message of the same clientMessageId in the
   * thread, if there is one, is returned instead, and nothing is stored.
   * `attachmentIds` (checked by checkAttachmentIds) become the message's files,
   * or BAD_USER_INPUT refuses the whole send.
   */
  async append(tx: AuditedTx, author: User, threadId: string, body: string, clientMessageId: string | null, staffOnly = false, attachmentIds: readonly string[] = []): Promise<Message> {
    const m = tx.manager;
    const send = { threadId, author, now: new Date(), staffOnly, clientMessageId };
    const next = isId(threadId) ? await tx.advanceThread(threadId, (m) => nextMessage(m, send)) : null;
    if (!next) return this.earlier(m, author, threadId, clientMessageId);
    const message = Object.assign(new Message(), {
      id: newId(),
      threadId,
      seq: next.seq,
      authorId: author.id,
      body,
      createdAt: next.createdAt,
      readByCareTeamAt: null,
      clientMessageId,
      staffOnly,
    });
    // Every column is given: nothing to read back.
    await insertRows(m, Message, [message]);
    // Read with the thread's row locked: exactly the participants at the commit.
    const participants = await participantFacts(m, [threadId]);
    // On PostgreSQL the statement that waited for the lock judged participation on what it saw
    // before waiting: an author removed meanwhile shows here.
    if (!participants.some((p) => p.userId === author.id)) throw notFound('Thread');
    message.attachments = attachmentIds.length ? await this.attachments.attach(tx, author, message, attachmentIds) : [];
    const data = toMessageData(message);
    await tx.emit(MESSAGE_STORED, { message: data, author, waitStarted: next.waitStarted, participants });
    await tx.emit(MESSAGE_ADDED, rememberSend({ message: data, recipientIds: participants.map((p) => p.userId) }, { author, participants }));
    await tx.audit({ actor: author, action: AuditAction.MessageSent, threadId, messageId: message.id, participants });
    return message;
  }

  /** Once nextMessage refused: the message of a retry, to its author if they are still in the thread; NOT_FOUND otherwise. */
  private async earlier(m: EntityManager, author: User, threadId: string, clientMessageId: string | null): Promise<Message> {
    if (!clientMessageId || !isId(threadId)) throw notFound('Thread');
    await this.access.participation(m, author.id, threadId);
    const earlier = await m.findOneBy(Message, { threadId, authorId: author.id, clientMessageId });
    if (!earlier) throw notFound('Thread');
    return earlier;
  }

  /**
   * The live feed of one viewer: messages of threads they are in when each
   * message commits, optionally of one thread (NOT_FOUND if they cannot see it).
   * Once it is live, the last sequence numbers of the viewer's threads are the
   * sequencer's baseline: a later message that arrives first does not hide one in between.
   */
  async stream(viewer: User, threadId?: string | null): Promise<MessageFeed> {
    if (threadId) await this.access.participation(this.db.manager, viewer.id, threadId);
    return new MessageFeed(viewer, threadId ?? null, async () => this.sequencer.prime(await this.lastSeqs(viewer, threadId)));
  }

  /**
   * The messages of a gap, each addressed to those of the later message's
   * recipients who were in the thread when it was written: someone added back
   * since never gets what was said while they were out.
   */
  private async missing(threadId: string, afterSeq: number, beforeSeq: number, later: MessageAddedEvent): Promise<MessageAddedEvent[]> {
    const [messages, participants] = await Promise.all([
      this.db.manager
        .createQueryBuilder(Message, 'msg')
        .where('msg.threadId = :threadId AND msg.seq > :afterSeq AND msg.seq < :beforeSeq', { threadId, afterSeq, beforeSeq })
        .orderBy('msg.seq', 'ASC')
        .getMany(),
      this.db.manager.find(Participant, { where: { threadId, userId: In(later.recipientIds) }, select: { userId: true, joinedAt: true } }),
    ]);
    const attachments = await attachmentsOfMessages(this.db.manager, messages.map((message) => message.id));
    return messages.map((message, i) => ({
      message: toMessageData(Object.assign(message, { attachments: attachments[i] })),
      recipientIds: participants.filter((p) => p.joinedAt <= message.createdAt).map((p) => p.userId),
    }));
  }

  /** The last sequence number of each thread the viewer is in (or of one of them): one query per subscription. */
  private async lastSeqs(viewer: User, threadId?: string | null): Promise<Map<string, number>> {
    const q = visibleThreads(this.db.manager.createQueryBuilder(Thread, 't'), viewer, 't.id').select(['t.id', 't.lastSeq']);
    if (threadId) q.andWhere('t.id = :threadId', { threadId });
    return new Map((await q.getMany()).map((t) => [t.id, t.lastSeq]));
  }

  /** Oldest first, after a cursor: the messages of the thread the viewer may see (none when they may not see the thread). */
  async page(viewer: User, threadId: string, first: number, after?: string | null) {
    const limit = checkPageSize(first);
    const [afterSeq] = after ? decodeCursor(after, ['number']) : [0];
    const rows = await visibleMessages(this.db.manager.createQueryBuilder(Message, 'msg'), viewer, 'msg')
      .where('msg.threadId = :threadId AND msg.seq > :afterSeq', { threadId, afterSeq })
      .orderBy('msg.seq', 'ASC')
      .limit(limit + 1)
      .getMany();
    return toPage(rows, limit, (msg) => encodeCursor([msg.seq]));
  }
}
