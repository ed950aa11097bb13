import { In, MoreThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { newId } from '../../common/ids';
import { checkPageSize, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import { MAX_BODY_LENGTH, requireText } from '../../common/text';
import { isUniqueViolation } from '../../database/errors';
import type { UnitOfWork } from '../../database/unit-of-work';
import { badUserInput, forbidden } from '../../errors';
import { MESSAGE_ADDED, type EventBus, type InboxChangedEvent, type MessageAddedEvent } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import type { AuditService } from '../audit/audit.service';
import type { InboxService } from '../inbox/inbox.service';
import { Participant } from '../threads/participant.entity';
import type { ThreadAccess } from '../threads/thread.access';
import { visibleMessages, visibleThreads } from '../threads/thread-visibility';
import { Thread } from '../threads/thread.entity';
import type { User } from '../users/user.entity';
import { toMessageData } from './message-data';
import { messageFeed } from './message-feed';
import { seesStaffNotes } from './staff-notes';
import { Message } from './message.entity';

const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;
/** Clocks of instances may disagree by this much. */
const REPUBLISH_MARGIN_MS = 5_000;
/** Beyond this, clients catch up through thread.messages(after:) instead. */
const MAX_REPUBLISHED = 10_000;
const REPUBLISH_CHUNK = 100;

/** A committed message, the participants it goes to live, and the inbox changes it made. */
export interface Delivery {
  message: Message;
  recipientIds: string[];
  inboxChanges?: InboxChangedEvent[];
}

export class MessageService {
  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly access: ThreadAccess,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly inbox: InboxService,
  ) {}

  /**
   * Stores and pushes a message. A retry with the same clientMessageId (same
   * caller and thread) returns the stored message and pushes nothing; the
   * unique constraint, not the first lookup, is what guarantees one copy.
   */
  async send(viewer: User, threadId: string, bodyText: string, clientMessageId?: string | null, staffOnly = false): Promise<Message> {
    if (staffOnly && !seesStaffNotes(viewer)) throw forbidden('Only professionals may post staff-only notes');
    const body = requireText('body', bodyText, MAX_BODY_LENGTH);
    if (clientMessageId !== undefined && clientMessageId !== null) {
      if (!clientMessageId || clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH) {
        throw badUserInput(`clientMessageId must be 1 to ${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
      }
    }
    const key = clientMessageId ?? null;
    try {
      const result = await this.uow.transaction(async (m) => {
        await this.access.participation(m, viewer.id, threadId);
        const earlier = key ? await m.findOneBy(Message, { threadId, authorId: viewer.id, clientMessageId: key }) : null;
        return earlier ?? this.append(m, viewer, threadId, body, key, staffOnly);
      });
      if (result instanceof Message) return result;
      this.publish(result);
      return result.message;
    } catch (error) {
      if (!key || !isUniqueViolation(error)) throw error;
      // A concurrent retry committed first.
      return this.db.manager.findOneByOrFail(Message, { threadId, authorId: viewer.id, clientMessageId: key });
    }
  }

  /**
   * Inside the caller's transaction: numbers the message (the thread row's
   * update serialises concurrent senders), stores and audits it.
   */
  async append(m: EntityManager, author: User, threadId: string, body: string, clientMessageId: string | null, staffOnly = false): Promise<Delivery> {
    await m
      .createQueryBuilder()
      .update(Thread)
      .set({ lastSeq: () => '"lastSeq" + 1' })
      .where('id = :threadId', { threadId })
      .execute();
    // Read only now, with the thread's row locked: a message that waited for another's lock
    // gets a later time as well as a later seq, so times never go backwards within a thread.
    const createdAt = new Date();
    // A staff-only note leaves the patient's inbox order alone: moving it would tell them a note came.
    if (!staffOnly) await m.update(Thread, { id: threadId }, { lastActivityAt: createdAt });
    const { lastSeq, waitingSince } = await m.findOneOrFail(Thread, { where: { id: threadId }, select: { id: true, lastSeq: true, waitingSince: true } });
    const message = Object.assign(new Message(), {
      id: newId(),
      threadId,
      seq: lastSeq,
      authorId: author.id,
      body,
      createdAt,
      readByCareTeamAt: null,
      clientMessageId,
      staffOnly,
    });
    await m.insert(Message, message);
    const inboxChanges = await this.inbox.messageStored(m, author, message, waitingSince);
    const participants = await m.find(Participant, { where: { threadId }, select: { userId: true } });
    // Last: it holds the audit chain until the commit.
    await this.audit.record(m, { actor: author, action: AuditAction.MessageSent, threadId, messageId: message.id });
    return { message, recipientIds: participants.map((p) => p.userId), inboxChanges };
  }

  /** Call after the transaction that stored the message has committed. */
  publish({ message, recipientIds, inboxChanges }: Delivery): void {
    this.events.publish(MESSAGE_ADDED, { message: toMessageData(message), recipientIds });
    this.inbox.publish(inboxChanges ?? []);
  }

  /**
   * The live feed of one viewer: messages of threads they are in when each
   * message commits, optionally of one thread (NOT_FOUND if they cannot see it).
   */
  async stream(viewer: User, threadId?: string | null): Promise<AsyncIterable<MessageAddedEvent>> {
    if (threadId) await this.access.participation(this.db.manager, viewer.id, threadId);
    const baseline = await this.lastSeqs(viewer, threadId);
    return messageFeed(this.events.subscribe(MESSAGE_ADDED), {
      viewerId: viewer.id,
      threadId,
      baseline,
      canReceive: (event, userId) => this.access.canReceive(event, userId),
      canSee: (message) => !message.staffOnly || seesStaffNotes(viewer),
      delivered: (message) => this.audit.delivered(message, viewer.id),
      missing: async (thread, afterSeq, beforeSeq) =>
        (
          await visibleMessages(this.db.manager.createQueryBuilder(Message, 'msg'), viewer, 'msg')
            .where('msg.threadId = :thread AND msg.seq > :afterSeq AND msg.seq < :beforeSeq', { thread, afterSeq, beforeSeq })
            .orderBy('msg.seq', 'ASC')
            .getMany()
        ).map(toMessageData),
    });
  }

  /** The last sequence number of each thread the viewer is in (or of one of them): one query per subscription. */
  private async lastSeqs(viewer: User, threadId?: string | null): Promise<Map<string, number>> {
    const q = visibleThreads(this.db.manager.createQueryBuilder(Thread, 't'), viewer, 't.id').select(['t.id', 't.lastSeq']);
    if (threadId) q.andWhere('t.id = :threadId', { threadId });
    return new Map((await q.getMany()).map((t) => [t.id, t.lastSeq]));
  }

  /**
   * Publishes again every message committed since `since` (with a margin for
   * clocks), to this instance and the others, after the link between
   * instances was down. Subscribers drop what they already had. Bodies are
   * read a chunk at a time, and Redis catches up between chunks, so a long
   * outage does not become a memory spike.
   */
  async republishSince(since: Date): Promise<number> {
    const from = new Date(since.getTime() - REPUBLISH_MARGIN_MS);
    const keys = await this.db.manager.find(Message, {
      where: { createdAt: MoreThanOrEqual(from) },
      select: { id: true, threadId: true },
      order: { createdAt: 'ASC', seq: 'ASC' },
      take: MAX_REPUBLISHED,
    });
    if (!keys.length) return 0;
    const threadIds = [...new Set(keys.map((msg) => msg.threadId))];
    const participants = await this.db.manager.find(Participant, { where: { threadId: In(threadIds) }, select: { threadId: true, userId: true } });
    const recipients = new Map<string, string[]>();
    for (const p of participants) {
      const ids = recipients.get(p.threadId) ?? [];
      recipients.set(p.threadId, ids);
      ids.push(p.userId);
    }
    for (let i = 0; i < keys.length; i += REPUBLISH_CHUNK) {
      const chunk = keys.slice(i, i + REPUBLISH_CHUNK);
      const byId = new Map((await this.db.manager.findBy(Message, { id: In(chunk.map((k) => k.id)) })).map((m) => [m.id, m]));
      for (const { id, threadId } of chunk) {
        const message = byId.get(id);
        if (message) this.publish({ message, recipientIds: recipients.get(threadId) ?? [] });
      }
      await this.events.drained();
    }
    return keys.length;
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
