import { In, type EntityManager } from 'typeorm';
import type { ParticipantsChangedEvent } from '../../events/event-bus';
import { AuditAction } from '../audit/audit-action';
import type { AuditEntry } from '../audit/audit.service';
import { TeamMember } from '../teams/team-member.entity';
import type { Team } from '../teams/team.entity';
import { isContactable, type User } from '../users/user.entity';
import { Participant } from './participant.entity';
import { lockThread } from './thread-lock';
import { InboxStatus, ThreadTeam } from './thread-team.entity';
import { Thread } from './thread.entity';
import { newParticipant, participantsChanged } from './thread.service';

/** What a membership change did to the team's threads: events to audit (by the caller, last) and to publish after the commit. */
export interface TeamThreadsChange {
  audit: AuditEntry[];
  changes: ParticipantsChangedEvent[];
}

/** Rows per statement: far below SQLite's and PostgreSQL's limits on bound parameters. */
const BATCH = 500;

/**
 * Inside the transaction that made `member` a member of `team`, before
 * anything is audited (the audit chain's lock must come after the threads'
 * locks, as in a send): makes them a participant, through the team, of every
 * thread open in the team's inbox that they are not in yet, with nothing
 * read. Only for an auto-CC team and a contactable, enabled member, as when
 * picking the team expands it; otherwise nothing changes.
 *
 * Each thread's row is locked first, in thread id order (so two such changes
 * never deadlock), so every message's recipients are exactly the participants
 * at its commit; a thread marked done or joined meanwhile is left alone.
 */
export async function joinTeamThreads(m: EntityManager, actor: User, team: Team, member: User): Promise<TeamThreadsChange> {
  if (!team.autoCc || !isContactable(member)) return { audit: [], changes: [] };
  const openWithout = async (): Promise<string[]> => {
    const rows = await m
      .createQueryBuilder(ThreadTeam, 'tt')
      .leftJoin(Participant, 'p', 'p.threadId = tt.threadId AND p.userId = :userId', { userId: member.id })
      .where('tt.teamId = :teamId AND tt.status = :open AND p.userId IS NULL', { teamId: team.id, open: InboxStatus.OPEN })
      .select('tt.threadId', 'threadId')
      .orderBy('tt.threadId', 'ASC')
      .getRawMany<{ threadId: string }>();
    return rows.map((r) => r.threadId);
  };
  const candidates = await openWithout();
  if (!candidates.length) return { audit: [], changes: [] };
  for (const threadId of candidates) await lockThread(m, threadId);
  const locked = new Set(candidates);
  const threadIds = (await openWithout()).filter((id) => locked.has(id));

  const now = new Date();
  for (const ids of batches(threadIds)) {
    await m.insert(
      Participant,
      ids.map((threadId) => ({ ...newParticipant(threadId, member.id, now), addedById: actor.id, viaTeamId: team.id })),
    );
  }
  const after = await participantsOf(m, threadIds);
  return {
    audit: threadIds.map((threadId) => ({ actor, action: AuditAction.ParticipantAdded, threadId, subjectUserId: member.id, teamId: team.id })),
    changes: threadIds.map((threadId) => participantsChanged(threadId, actor, after.get(threadId) ?? [], { addedIds: [member.id], at: now })),
  };
}

/**
 * Inside the transaction that took `userId` out of team `teamId`, before
 * anything is audited: their participations through that team end, unless
 * the thread is also in the inbox of another team they are still a member of
 * (the participation is then through that team), or they created the thread.
 * Participations they were added to directly stay. Threads are locked as in
 * joinTeamThreads, so no message committed after this reaches them.
 */
export async function leaveTeamThreads(m: EntityManager, actor: User, teamId: string, userId: string): Promise<TeamThreadsChange> {
  const throughTeam = async (): Promise<string[]> =>
    (await m.find(Participant, { where: { userId, viaTeamId: teamId }, select: { threadId: true }, order: { threadId: 'ASC' } })).map((p) => p.threadId);
  const candidates = await throughTeam();
  if (!candidates.length) return { audit: [], changes: [] };
  for (const threadId of candidates) await lockThread(m, threadId);
  const locked = new Set(candidates);
  const threadIds = (await throughTeam()).filter((id) => locked.has(id));

  // The first (by team id) of their other teams with the thread in its inbox.
  const otherTeam = new Map<string, string>();
  const created = new Set<string>();
  for (const ids of batches(threadIds)) {
    const others = await m
      .createQueryBuilder(ThreadTeam, 'tt')
      .innerJoin(TeamMember, 'tm', 'tm.teamId = tt.teamId AND tm.userId = :userId', { userId })
      .where('tt.threadId IN (:...ids) AND tt.teamId <> :teamId', { ids, teamId })
      .orderBy('tt.teamId', 'ASC')
      .getMany();
    for (const item of others) if (!otherTeam.has(item.threadId)) otherTeam.set(item.threadId, item.teamId);
    for (const thread of await m.find(Thread, { where: { id: In(ids), createdById: userId }, select: { id: true } })) created.add(thread.id);
  }

  const removed: string[] = [];
  for (const threadId of threadIds) {
    const other = otherTeam.get(threadId);
    if (other) await m.update(Participant, { threadId, userId }, { viaTeamId: other });
    else if (created.has(threadId)) await m.update(Participant, { threadId, userId }, { viaTeamId: null });
    else removed.push(threadId);
  }
  for (const ids of batches(removed)) await m.delete(Participant, { userId, threadId: In(ids) });
  const now = new Date();
  const after = await participantsOf(m, removed);
  return {
    audit: removed.map((threadId) => ({ actor, action: AuditAction.ParticipantRemoved, threadId, subjectUserId: userId, teamId })),
    changes: removed.map((threadId) => participantsChanged(threadId, actor, after.get(threadId) ?? [], { removedIds: [userId], at: now })),
  };
}

/** Each thread's participants' ids. */
async function participantsOf(m: EntityManager, threadIds: string[]): Promise<Map<string, string[]>> {
  const byThread = new Map<string, string[]>(threadIds.map((id) => [id, []]));
  for (const ids of batches(threadIds)) {
    for (const p of await m.find(Participant, { where: { threadId: In(ids) }, select: { threadId: true, userId: true } })) byThread.get(p.threadId)?.push(p.userId);
  }
  return byThread;
}

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}
