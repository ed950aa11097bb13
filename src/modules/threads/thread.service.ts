import type { DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { checkPageSize, cursorTime, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import { MAX_SUBJECT_LENGTH, requireText } from '../../common/text';
import { checkAttachmentIds } from '../attachments/attachment-rules';
import { messageBody } from '../messages/message-body';
import { PARTICIPANTS_CHANGED } from '../../events/event-bus';
import { PARTICIPANT_LEAVING, TEAM_MEMBER_ADDED, TEAM_MEMBER_REMOVED, THREAD_TEAMS_ADDED } from '../../events/tx-events';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork, AuditEntry } from '../audit/audit-entry';
import { recordCareTeamRead } from '../messages/care-team-read';
import type { MessageService } from '../messages/message.service';
import type { RecipientInput } from '../recipients/recipient.input';
import type { RecipientService, Resolution } from '../recipients/recipients.service';
import type { User } from '../users/user.entity';
import { Participant } from './participant.entity';
import { newParticipant, participantsChanged } from './participants';
import { joinTeamThreads, leaveTeamThreads } from './team-threads';
import type { ThreadAccess } from './thread.access';
import { visibleThreads } from './thread-visibility';
import { ThreadTeam } from './thread-team.entity';
import { Thread } from './thread.entity';

export interface ThreadDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  access: ThreadAccess;
  recipients: RecipientService;
  messages: MessageService;
}

export class ThreadService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly access: ThreadAccess;
  private readonly recipients: RecipientService;
  private readonly messages: MessageService;

  constructor(deps: ThreadDeps) {
    ({ db: this.db, uow: this.uow, access: this.access, recipients: this.recipients, messages: this.messages } = deps);
  }

  /** Registers the threads' listeners: team membership follows into the team's threads (team-threads.ts). */
  listen(): void {
    this.uow.on(TEAM_MEMBER_ADDED, joinTeamThreads);
    this.uow.on(TEAM_MEMBER_REMOVED, leaveTeamThreads);
  }

  /**
   * Creates the thread, its participants (the caller and every resolved
   * recipient) and its first message in one transaction; a refused recipient
   * leaves nothing behind.
   */
  async create(viewer: User, subjectText: string, bodyText: string, picks: RecipientInput[], attachmentIds: readonly string[] = []): Promise<Thread> {
    const subject = requireText('subject', subjectText, MAX_SUBJECT_LENGTH);
    const attached = checkAttachmentIds(attachmentIds);
    const body = messageBody(bodyText, attached.length > 0);
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockTeams(pickedTeams(picks), 'read');
      const resolution = await this.recipients.resolve(m, viewer, picks, new Set(), null);
      const now = new Date();
      const thread = Object.assign(new Thread(), {
        id: newId(),
        subject,
        createdAt: now,
        createdById: viewer.id,
        lastActivityAt: now,
        lastMessageAt: now,
        lastSeq: 0,
      });
      await m.insert(Thread, thread);
      // Its own new row: held from here, so the first message may lock it again after the inbox items.
      await tx.lockThreads([thread.id]);
      await m.insert(Participant, { ...newParticipant(thread.id, viewer.id, now), addedById: null });
      await this.addResolved(tx, viewer, thread.id, resolution, now, { actor: viewer, action: AuditAction.ThreadCreated, threadId: thread.id });
      const addedIds = resolution.additions.map((a) => a.user.id);
      // In the order things happen: the recipients are added, then the first message is sent.
      await tx.emit(PARTICIPANTS_CHANGED, participantsChanged(thread.id, viewer, [viewer.id, ...addedIds], { addedIds, created: true, at: now }));
      const message = await this.messages.append(tx, viewer, thread.id, body, null, false, attached);
      return Object.assign(thread, { lastSeq: message.seq });
    });
  }

  /** Adds what the picks resolve to; current participants stay as they are. */
  async addParticipants(viewer: User, threadId: string, picks: RecipientInput[]): Promise<Thread> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockTeams(pickedTeams(picks), 'read');
      await tx.lockThreads([threadId]);
      const thread = await this.access.visibleThread(m, viewer.id, threadId);
      const current = new Set((await m.findBy(Participant, { threadId })).map((p) => p.userId));
      const resolution = await this.recipients.resolve(m, viewer, picks, current, threadId);
      const now = new Date();
      await this.addResolved(tx, viewer, threadId, resolution, now);
      const addedIds = resolution.additions.map((a) => a.user.id);
      // Picking only current participants changes nothing, so there is nothing to tell.
      if (addedIds.length) await tx.emit(PARTICIPANTS_CHANGED, participantsChanged(threadId, viewer, [...current, ...addedIds], { addedIds, at: now }));
      return thread;
    });
  }

  /** Removes only the caller, and unassigns them where they had the thread; afterwards the thread is NOT_FOUND for them. */
  async leave(viewer: User, threadId: string): Promise<boolean> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockThreads([threadId]);
      await this.access.participation(m, viewer.id, threadId);
      // While they are still in it: the inbox unassigns them where they had it.
      await tx.emit(PARTICIPANT_LEAVING, { threadId, userId: viewer.id, actor: viewer });
      await tx.audit({ actor: viewer, action: AuditAction.ParticipantLeft, threadId, subjectUserId: viewer.id });
      await m.delete(Participant, { threadId, userId: viewer.id });
      const remaining = await m.find(Participant, { where: { threadId }, select: { userId: true } });
      await tx.emit(PARTICIPANTS_CHANGED, participantsChanged(threadId, viewer, remaining.map((p) => p.userId), { removedIds: [viewer.id], at: new Date() }));
      return true;
    });
  }

  /** Marks every message so far as read by the caller, and by the care team when the caller is a professional. */
  async markRead(viewer: User, threadId: string): Promise<Thread> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      // Takes turns with a leave of the same thread, which deletes the participant row this updates.
      await tx.lockThreads([threadId]);
      const thread = await this.access.visibleThread(m, viewer.id, threadId);
      const now = new Date();
      await m.update(Participant, { threadId, userId: viewer.id }, { lastReadSeq: thread.lastSeq, lastReadAt: now });
      await recordCareTeamRead(m, viewer, threadId, thread.lastSeq, now);
      await tx.audit({ actor: viewer, action: AuditAction.ThreadMarkedRead, threadId });
      return thread;
    });
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

  private async addResolved(tx: AuditedTx, viewer: User, threadId: string, resolution: Resolution, now: Date, first?: AuditEntry) {
    const m = tx.manager;
    if (!resolution.additions.length) return first ? tx.audit(first) : undefined;
    await m.insert(
      Participant,
      resolution.additions.map(({ user, viaTeamId }) => ({ ...newParticipant(threadId, user.id, now), addedById: viewer.id, viaTeamId })),
    );
    for (const teamId of resolution.teamIds) {
      await m.createQueryBuilder().insert().into(ThreadTeam).values({ threadId, teamId, addedAt: now }).orIgnore().execute();
    }
    if (resolution.teamIds.length) await tx.emit(THREAD_TEAMS_ADDED, { threadId });
    await tx.audit(
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

/** The teams among the picks, to lock before their members are read (tx.lockTeams). */
const pickedTeams = (picks: RecipientInput[]) => picks.flatMap((p) => (p.teamId ? [p.teamId] : []));
