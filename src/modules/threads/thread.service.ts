import type { DataSource, EntityManager } from 'typeorm';
import { newId } from '../../common/ids';
import { checkPageSize, cursorTime, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import { MAX_BODY_LENGTH, MAX_SUBJECT_LENGTH, requireText } from '../../common/text';
import type { UnitOfWork } from '../../database/unit-of-work';
import { PARTICIPANTS_CHANGED, type EventBus, type ParticipantsChangedEvent } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import type { AuditEntry, AuditService } from '../audit/audit.service';
import { reschedule } from '../inbox/escalation-schedule';
import type { InboxService } from '../inbox/inbox.service';
import { recordCareTeamRead } from '../messages/care-team-read';
import type { MessageService } from '../messages/message.service';
import type { RecipientInput } from '../recipients/recipient.input';
import type { RecipientService, Resolution } from '../recipients/recipients.service';
import { lockTeams } from '../teams/team-lock';
import type { User } from '../users/user.entity';
import { Participant } from './participant.entity';
import type { ThreadAccess } from './thread.access';
import { visibleThreads } from './thread-visibility';
import { lockThread } from './thread-lock';
import { ThreadTeam } from './thread-team.entity';
import { Thread } from './thread.entity';

export class ThreadService {
  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly access: ThreadAccess,
    private readonly recipients: RecipientService,
    private readonly messages: MessageService,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly inbox: InboxService,
  ) {}

  /**
   * Creates the thread, its participants (the caller and every resolved
   * recipient) and its first message in one transaction; a refused recipient
   * leaves nothing behind.
   */
  async create(viewer: User, subjectText: string, bodyText: string, picks: RecipientInput[]): Promise<Thread> {
    const subject = requireText('subject', subjectText, MAX_SUBJECT_LENGTH);
    const body = requireText('body', bodyText, MAX_BODY_LENGTH);
    const { thread, published, change } = await this.uow.transaction(async (m) => {
      await lockTeams(m, pickedTeams(picks), 'read');
      const resolution = await this.recipients.resolve(m, viewer, picks, new Set());
      const now = new Date();
      const thread = Object.assign(new Thread(), {
        id: newId(),
        subject,
        createdAt: now,
        createdById: viewer.id,
        lastActivityAt: now,
        lastSeq: 0,
      });
      await m.insert(Thread, thread);
      await m.insert(Participant, { ...newParticipant(thread.id, viewer.id, now), addedById: null });
      await this.addResolved(m, viewer, thread.id, resolution, now, { actor: viewer, action: AuditAction.ThreadCreated, threadId: thread.id });
      const published = await this.messages.append(m, viewer, thread.id, body, null);
      const addedIds = resolution.additions.map((a) => a.user.id);
      const change = participantsChanged(thread.id, viewer, [viewer.id, ...addedIds], { addedIds, created: true, at: now });
      return { thread: Object.assign(thread, { lastSeq: published.message.seq }), published, change };
    });
    // In the order things happened: the recipients were added, then the first message was sent.
    this.events.publish(PARTICIPANTS_CHANGED, change);
    this.messages.publish(published);
    return thread;
  }

  /** Adds what the picks resolve to; current participants stay as they are. */
  async addParticipants(viewer: User, threadId: string, picks: RecipientInput[]): Promise<Thread> {
    const { thread, change } = await this.uow.transaction(async (m) => {
      await lockTeams(m, pickedTeams(picks), 'read');
      await lockThread(m, threadId);
      const thread = await this.access.visibleThread(m, viewer.id, threadId);
      const current = new Set((await m.findBy(Participant, { threadId })).map((p) => p.userId));
      const resolution = await this.recipients.resolve(m, viewer, picks, current);
      const now = new Date();
      await this.addResolved(m, viewer, threadId, resolution, now);
      const addedIds = resolution.additions.map((a) => a.user.id);
      // Picking only current participants changes nothing, so there is nothing to tell.
      const change = addedIds.length ? participantsChanged(threadId, viewer, [...current, ...addedIds], { addedIds, at: now }) : null;
      return { thread, change };
    });
    if (change) this.events.publish(PARTICIPANTS_CHANGED, change);
    return thread;
  }

  /** Removes only the caller, and unassigns them where they had the thread; afterwards the thread is NOT_FOUND for them. */
  async leave(viewer: User, threadId: string): Promise<boolean> {
    const { change, inboxChanges } = await this.uow.transaction(async (m) => {
      await lockThread(m, threadId);
      await this.access.participation(m, viewer.id, threadId);
      const inboxChanges = await this.inbox.unassignLeaver(m, viewer, { threadId }, viewer.id);
      await this.audit.record(m, { actor: viewer, action: AuditAction.ParticipantLeft, threadId, subjectUserId: viewer.id });
      await m.delete(Participant, { threadId, userId: viewer.id });
      const remaining = await m.find(Participant, { where: { threadId }, select: { userId: true } });
      return {
        change: participantsChanged(threadId, viewer, remaining.map((p) => p.userId), { removedIds: [viewer.id], at: new Date() }),
        inboxChanges,
      };
    });
    this.events.publish(PARTICIPANTS_CHANGED, change);
    this.inbox.publish(inboxChanges);
    return true;
  }

  /** Marks every message so far as read by the caller, and by the care team when the caller is a professional. */
  async markRead(viewer: User, threadId: string): Promise<Thread> {
    return this.uow.transaction(async (m) => {
      // Takes turns with a leave of the same thread, which holds the audit chain before deleting the participant row this updates.
      await lockThread(m, threadId);
      const thread = await this.access.visibleThread(m, viewer.id, threadId);
      const now = new Date();
      await m.update(Participant, { threadId, userId: viewer.id }, { lastReadSeq: thread.lastSeq, lastReadAt: now });
      await recordCareTeamRead(m, viewer, threadId, thread.lastSeq, now);
      await this.audit.record(m, { actor: viewer, action: AuditAction.ThreadMarkedRead, threadId });
      return thread;
    });
  }

  get(viewer: User, threadId: string): Promise<Thread> {
    return this.access.visibleThread(this.db.manager, viewer.id, threadId);
  }

  /** The caller's threads, most recent activity first. */
  async list(viewer: User, first: number, after?: string | null) {
    const limit = checkPageSize(first);
    const q = visibleThreads(this.db.manager.createQueryBuilder(Thread, 't'), viewer, 't.id')
      .orderBy('t.lastActivityAt', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .take(limit + 1);
    if (after) {
      const [at, id] = decodeCursor(after, ['string', 'string']);
      const activity = cursorTime(at);
      q.andWhere('(t.lastActivityAt < :activity OR (t.lastActivityAt = :activity AND t.id < :id))', { activity, id });
    }
    return toPage(await q.getMany(), limit, (t) => encodeCursor([t.lastActivityAt.toISOString(), t.id]));
  }

  private async addResolved(m: EntityManager, viewer: User, threadId: string, resolution: Resolution, now: Date, first?: AuditEntry) {
    if (!resolution.additions.length) return first ? this.audit.record(m, first) : undefined;
    await m.insert(
      Participant,
      resolution.additions.map(({ user, viaTeamId }) => ({ ...newParticipant(threadId, user.id, now), addedById: viewer.id, viaTeamId })),
    );
    for (const teamId of resolution.teamIds) {
      await m.createQueryBuilder().insert().into(ThreadTeam).values({ threadId, teamId, addedAt: now }).orIgnore().execute();
    }
    // A team added to a thread whose patient already waits starts its own clock (inbox rows before the audit chain's lock).
    if (resolution.teamIds.length) await reschedule(m, { threadId });
    await this.audit.record(
      m,
      ...(first ? [first] : []),
      ...resolution.additions.map(({ user, viaTeamId }) => ({
        actor: viewer,
        action: AuditAction.ParticipantAdded,
        threadId,
        subjectUserId: user.id,
        teamId: viaTeamId,
      })),
    );
  }
}

/** The live event of a committed participants change; `participantIds` are those after it. */
export function participantsChanged(
  threadId: string,
  actor: User,
  participantIds: string[],
  change: { addedIds?: string[]; removedIds?: string[]; created?: boolean; at: Date },
): ParticipantsChangedEvent {
  return {
    threadId,
    participantIds,
    addedIds: change.addedIds ?? [],
    removedIds: change.removedIds ?? [],
    actorId: actor.id,
    created: change.created ?? false,
    at: change.at.toISOString(),
  };
}

/** The teams among the picks, to lock before their members are read (lockTeams). */
const pickedTeams = (picks: RecipientInput[]) => picks.flatMap((p) => (p.teamId ? [p.teamId] : []));

/** A new participation with nothing read yet (the history is unread for them); callers set addedById and viaTeamId. */
export function newParticipant(threadId: string, userId: string, joinedAt: Date) {
  return { threadId, userId, joinedAt, viaTeamId: null, lastReadAt: null, lastReadSeq: 0 };
}
