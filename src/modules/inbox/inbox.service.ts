import type { DataSource, EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { checkPageSize, cursorTime, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import { badUserInput, forbidden } from '../../errors';
import { INBOX_CHANGED } from '../../events/event-bus';
import {
  ABSENCE_CANCELLED,
  MESSAGE_STORED,
  PARTICIPANT_LEAVING,
  TEAM_MEMBER_ADDED,
  TEAM_MEMBER_REMOVED,
  TEAM_WAITING_LIMIT_CHANGED,
  THREAD_TEAMS_ADDED,
  USER_ENABLED,
  type TxEvents,
} from '../../events/tx-events';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork, AuditEntry } from '../audit/audit-entry';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { teamOrFail } from '../teams/team-lookup';
import { Participant } from '../threads/participant.entity';
import type { ThreadAccess } from '../threads/thread.access';
import { visibleThreads } from '../threads/thread-visibility';
import { InboxStatus, ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';
import { UserKind } from '../users/user-kind';
import { isContactable, isProfessional, User, type Actor } from '../users/user.entity';
import { reschedule, rescheduleItems, threadItems, unschedule } from './escalation-schedule';
import { inboxChanged } from './inbox-changed';
import { InboxAssignee } from './inbox-filter';

/** A week: longer than that, a limit is no longer an alert. */
const MAX_WAITING_LIMIT_MINUTES = 7 * 24 * 60;

/** What one inbox change does, given the thread's item in the team's inbox; null when it changes nothing. */
type Change = (m: EntityManager, item: ThreadTeam, team: Team) => Promise<AuditEntry | null>;

export interface InboxDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  access: ThreadAccess;
}

/**
 * Team inboxes: the threads addressed to an auto-CC team, with the team's
 * status and assignee for each, and how long the patient has been waiting.
 * Only members of the team who are participants of a thread see it there
 * (a thread is only ever shown to its participants); every change is audited
 * and pushed to those members' dashboard feeds. The inbox follows the other
 * modules' changes through its in-transaction listeners (`listen`), which
 * alone keep the escalation schedule.
 */
export class InboxService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;
  private readonly access: ThreadAccess;

  constructor(deps: InboxDeps) {
    ({ db: this.db, uow: this.uow, access: this.access } = deps);
  }

  /**
   * Registers the inbox's listeners with the unit of work: a message's effect
   * on the wait and on done threads; unassigning a member who leaves a thread
   * or the team; and the escalation schedule of whatever it depends on.
   * Register after the threads module's, so inbox items are locked after threads.
   */
  listen(): void {
    const uow = this.uow;
    uow.on(MESSAGE_STORED, (tx, event) => this.messageStored(tx, event));
    uow.on(INBOX_CHANGED, async (tx, event) => {
      // An alert already cleared its schedule; any other change may move it.
      if (!event.escalated) await reschedule(tx, { threadId: event.threadId });
    });
    uow.on(PARTICIPANT_LEAVING, (tx, { threadId, userId, actor }) => this.unassignLeaver(tx, actor, { threadId }, userId));
    uow.on(TEAM_MEMBER_REMOVED, (tx, { teamId, userId, actor }) => this.unassignLeaver(tx, actor, { teamId }, userId));
    uow.on(TEAM_MEMBER_ADDED, (tx, { userId }) => reschedule(tx, { memberId: userId }));
    // A team added to a thread whose patient already waits starts its own clock.
    uow.on(THREAD_TEAMS_ADDED, (tx, { threadId }) => reschedule(tx, { threadId }));
    uow.on(TEAM_WAITING_LIMIT_CHANGED, (tx, { teamId }) => reschedule(tx, { teamId }));
    // Back at work: an alert held back while nobody in the thread could act may go out now.
    uow.on(ABSENCE_CANCELLED, (tx, { userId }) => reschedule(tx, { memberId: userId }));
    uow.on(USER_ENABLED, (tx, { userId }) => reschedule(tx, { memberId: userId }));
  }

  /**
   * The team's threads that the caller is in, longest-waiting first (the
   * oldest unanswered patient message), then those where nobody waits, most
   * recent activity first. FORBIDDEN for non-members.
   */
  async list(viewer: User, teamId: string, status: InboxStatus, assignee: InboxAssignee, first: number, after?: string | null) {
    const limit = checkPageSize(first);
    await this.requireMember(this.db.manager, viewer, teamId);
    const items = this.db.manager.createQueryBuilder(ThreadTeam, 'tt').innerJoinAndMapOne('tt.thread', Thread, 't', 't.id = tt.threadId');
    const q = visibleThreads(items, viewer, 'tt.threadId')
      .where('tt.teamId = :teamId AND tt.status = :status', { teamId, status })
      .orderBy('t.waitingSince', 'ASC', 'NULLS LAST')
      .addOrderBy('t.lastActivityAt', 'DESC')
      .addOrderBy('t.id', 'ASC')
      .limit(limit + 1);
    if (assignee === InboxAssignee.ME) q.andWhere('tt.assigneeId = :viewerId', { viewerId: viewer.id });
    if (assignee === InboxAssignee.UNASSIGNED) q.andWhere('tt.assigneeId IS NULL');
    if (after) {
      const [waitingKey, activityKey, id] = decodeCursor(after, ['string', 'string', 'string']);
      const waiting = waitingKey ? cursorTime(waitingKey) : null;
      const activity = cursorTime(activityKey);
      const later = '(t.lastActivityAt < :activity OR (t.lastActivityAt = :activity AND t.id > :id))';
      if (waiting) {
        q.andWhere(`(t.waitingSince IS NULL OR t.waitingSince > :waiting OR (t.waitingSince = :waiting AND ${later}))`, { waiting, activity, id });
      } else {
        q.andWhere(`(t.waitingSince IS NULL AND ${later})`, { activity, id });
      }
    }
    return toPage(await q.getMany(), limit, ({ thread }) =>
      encodeCursor([thread!.waitingSince?.toISOString() ?? '', thread!.lastActivityAt.toISOString(), thread!.id]),
    );
  }

  /** The caller claims the thread for themself; refused when another member already has it. */
  claim(viewer: User, threadId: string, teamId: string): Promise<ThreadTeam> {
    return this.change(viewer, threadId, teamId, async (m, item) => {
      if (item.assigneeId === viewer.id) return null;
      if (item.assigneeId) {
        const holder = await m.findOneBy(User, { id: item.assigneeId });
        throw badUserInput(`${holder?.name ?? 'Another member'} has already claimed this thread; assign it to change that`);
      }
      return assignTo(m, viewer, item, viewer.id);
    });
  }

  /** Assigns the thread to a member of the team who is in it: contactable, unless they assign it to themself. */
  assign(viewer: User, threadId: string, teamId: string, userId: string): Promise<ThreadTeam> {
    return this.change(viewer, threadId, teamId, async (m, item, team) => {
      if (item.assigneeId === userId) return null;
      const user = isId(userId) ? await m.findOneBy(User, { id: userId }) : null;
      if (!user) throw badUserInput('Unknown user');
      if (!(await m.existsBy(TeamMember, { teamId, userId }))) throw badUserInput(`${user.name} is not a member of team "${team.name}"`);
      if (user.id !== viewer.id && !isContactable(user)) throw badUserInput(`${user.name} is not contactable by messages`);
      if (!(await m.existsBy(Participant, { threadId, userId }))) throw badUserInput(`${user.name} is not a participant of this thread`);
      return assignTo(m, viewer, item, userId);
    });
  }

  unassign(viewer: User, threadId: string, teamId: string): Promise<ThreadTeam> {
    return this.change(viewer, threadId, teamId, async (m, item) => {
      if (!item.assigneeId) return null;
      return unassign(m, viewer, item);
    });
  }

  /** The team is done with it; the assignee stays, so the team can see who handled it. */
  markDone(viewer: User, threadId: string, teamId: string): Promise<ThreadTeam> {
    return this.change(viewer, threadId, teamId, async (m, item) => {
      if (item.status === InboxStatus.DONE) return null;
      await m.update(ThreadTeam, key(item), { status: InboxStatus.DONE, doneAt: new Date(), doneById: viewer.id });
      return { actor: viewer, action: AuditAction.ThreadMarkedDone, threadId: item.threadId, teamId: item.teamId };
    });
  }

  reopen(viewer: User, threadId: string, teamId: string): Promise<ThreadTeam> {
    return this.change(viewer, threadId, teamId, async (m, item) => {
      if (item.status === InboxStatus.OPEN) return null;
      await m.update(ThreadTeam, key(item), { status: InboxStatus.OPEN, doneAt: null, doneById: null });
      return { actor: viewer, action: AuditAction.ThreadReopened, threadId: item.threadId, teamId: item.teamId };
    });
  }

  /** Admins and the team's members; null turns alerts off. Threads already waiting are rescheduled at once. */
  async setWaitingLimit(viewer: User, teamId: string, minutes: number | null): Promise<Team> {
    if (minutes !== null && (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_WAITING_LIMIT_MINUTES)) {
      throw badUserInput(`The waiting limit must be 1 to ${MAX_WAITING_LIMIT_MINUTES} minutes, or null for no alerts`);
    }
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      const team = viewer.isAdmin ? await teamOrFail(m, teamId, viewer.organisationId!) : await this.requireMember(m, viewer, teamId);
      if (team.waitingLimitMinutes === minutes) return team;
      await m.update(Team, { id: team.id }, { waitingLimitMinutes: minutes });
      await tx.emit(TEAM_WAITING_LIMIT_CHANGED, { teamId: team.id });
      await tx.audit({ actor: viewer, action: AuditAction.TeamWaitingLimitChanged, teamId: team.id });
      return Object.assign(team, { waitingLimitMinutes: minutes });
    });
  }

  /**
   * Inside the transaction that stores the message (the thread row locked,
   * the wait already moved by the message's numbering): a professional's
   * message ended any wait, so no alert is due; a patient's message reopens
   * the thread in every team that had it done, clearing the assignee, and a
   * wait it started is scheduled; a staff-only note changes nothing.
   */
  private async messageStored(tx: AuditedTx, { message, author, waitStarted }: TxEvents['MESSAGE_STORED']): Promise<void> {
    const { threadId } = message;
    // A note among staff is no reply to the patient, and the patient wrote nothing.
    if (message.staffOnly) return;
    if (author.kind !== UserKind.PATIENT) return unschedule(tx, threadId);
    const items = await threadItems(tx, threadId);
    const done = items.filter((item) => item.status === InboxStatus.DONE);
    for (const item of done) {
      await tx.manager.update(ThreadTeam, key(item), { status: InboxStatus.OPEN, doneAt: null, doneById: null, assigneeId: null, assignedAt: null });
    }
    // A patient writing again into a wait that is already scheduled changes nothing.
    if (!waitStarted && !done.length) return;
    if (!done.length) return rescheduleItems(tx, items);
    await tx.audit(
      ...done.map((item) => ({ actor: author, action: AuditAction.ThreadReopened, threadId, teamId: item.teamId, subjectUserId: item.assigneeId })),
    );
    // Each reopened item's change reschedules the thread (the INBOX_CHANGED listener).
    for (const item of done) await tx.emit(INBOX_CHANGED, await inboxChanged(tx.manager, item, author.id));
  }

  /**
   * Inside the transaction that takes `userId` out of a thread or a team:
   * unassigns them wherever they were the assignee there, and tells the
   * team's members other than the one leaving.
   */
  private async unassignLeaver(tx: AuditedTx, actor: Actor, where: { threadId: string } | { teamId: string }, userId: string): Promise<void> {
    const m = tx.manager;
    const items = await tx.lockInboxItems((m) => m.findBy(ThreadTeam, { ...where, assigneeId: userId }));
    const entries: AuditEntry[] = [];
    for (const item of items) entries.push(await unassign(m, actor, item));
    await tx.audit(...entries);
    for (const item of items) {
      const change = await inboxChanged(m, item, actor.id);
      await tx.emit(INBOX_CHANGED, { ...change, recipientIds: change.recipientIds.filter((id) => id !== userId) });
    }
  }

  /**
   * The team, if the viewer is a member: FORBIDDEN for patients (never members) and other professionals of
   * its organisation, NOT_FOUND for no such team and for another organisation's.
   */
  async requireMember(m: EntityManager, viewer: User, teamId: string): Promise<Team> {
    if (!isProfessional(viewer)) throw forbidden('Only members of this team may use its inbox');
    const team = await teamOrFail(m, teamId, viewer.organisationId!);
    // Without the team's name: anyone of the organisation may ask about any team id.
    if (!(await m.existsBy(TeamMember, { teamId, userId: viewer.id }))) throw forbidden('Only members of this team may use its inbox');
    return team;
  }

  /**
   * Runs one change of a thread's place in a team's inbox: NOT_FOUND unless
   * the caller is in the thread, FORBIDDEN unless they are in the team,
   * BAD_USER_INPUT when the thread is not addressed to the team. Changes on
   * one thread take turns (its row lock), so two members claiming at once
   * get one claim and one refusal.
   */
  private change(viewer: User, threadId: string, teamId: string, apply: Change): Promise<ThreadTeam> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      await tx.lockThreads([threadId]);
      await this.access.participation(m, viewer.id, threadId);
      const team = await this.requireMember(m, viewer, teamId);
      const found = await tx.lockInboxItems((m) => m.findOneBy(ThreadTeam, { threadId, teamId }));
      if (!found) throw badUserInput(`This thread is not in the inbox of team "${team.name}"`);
      const entry = await apply(m, found, team);
      if (entry) {
        await tx.emit(INBOX_CHANGED, await inboxChanged(m, found, viewer.id));
        await tx.audit(entry);
      }
      return m.findOneByOrFail(ThreadTeam, { threadId, teamId });
    });
  }
}

const key = (item: Pick<ThreadTeam, 'threadId' | 'teamId'>) => ({ threadId: item.threadId, teamId: item.teamId });

async function assignTo(m: EntityManager, actor: Actor, item: ThreadTeam, userId: string): Promise<AuditEntry> {
  await m.update(ThreadTeam, key(item), { assigneeId: userId, assignedAt: new Date() });
  return { actor, action: AuditAction.ThreadAssigned, ...key(item), subjectUserId: userId };
}

async function unassign(m: EntityManager, actor: Actor, item: ThreadTeam): Promise<AuditEntry> {
  await m.update(ThreadTeam, key(item), { assigneeId: null, assignedAt: null });
  return { actor, action: AuditAction.ThreadUnassigned, ...key(item), subjectUserId: item.assigneeId };
}
