import { In, type EntityManager } from 'typeorm';
import { batches } from '../../common/batch';
import { PARTICIPANTS_CHANGED } from '../../events/event-bus';
import type { TeamMemberEvent } from '../../events/tx-events';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx } from '../audit/audit-entry';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { isContactable, User, type Actor } from '../users/user.entity';
import { Participant } from './participant.entity';
import { newParticipant, participantsChanged } from './participants';
import { InboxStatus, ThreadTeam } from './thread-team.entity';
import { Thread } from './thread.entity';

/**
 * TEAM_MEMBER_ADDED, inside the transaction that made `userId` a member of
 * the team: makes them a participant, through the team, of every thread open
 * in the team's inbox that they are not in yet, with nothing read. Only for
 * an auto-CC team and a contactable, enabled member, as when picking the team
 * expands it; otherwise nothing changes.
 *
 * The threads' rows are locked first, in thread id order (so two such changes
 * never deadlock), so every message's recipients are exactly the participants
 * at its commit; a thread marked done or joined meanwhile is left alone.
 */
export async function joinTeamThreads(tx: AuditedTx, { teamId, userId, actor }: TeamMemberEvent): Promise<void> {
  const m = tx.manager;
  const team = await m.findOneByOrFail(Team, { id: teamId });
  const member = await m.findOneByOrFail(User, { id: userId });
  if (!team.autoCc || !isContactable(member)) return;
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
  if (!candidates.length) return;
  await tx.lockThreads(candidates);
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
  await tx.audit(...threadIds.map((threadId) => ({ actor, action: AuditAction.ParticipantAdded, threadId, subjectUserId: member.id, teamId: team.id })));
  await announce(tx, threadIds, actor, after, { addedIds: [member.id], at: now });
}

/**
 * TEAM_MEMBER_REMOVED, inside the transaction that took `userId` out of team
 * `teamId`: their participations through that team end, unless
 * the thread is also in the inbox of another team they are still a member of
 * (the participation is then through that team), or they created the thread.
 * Participations they were added to directly stay. Threads are locked as in
 * joinTeamThreads, so no message committed after this reaches them.
 */
export async function leaveTeamThreads(tx: AuditedTx, { teamId, userId, actor }: TeamMemberEvent): Promise<void> {
  const m = tx.manager;
  const throughTeam = async (): Promise<string[]> =>
    (await m.find(Participant, { where: { userId, viaTeamId: teamId }, select: { threadId: true }, order: { threadId: 'ASC' } })).map((p) => p.threadId);
  const candidates = await throughTeam();
  if (!candidates.length) return;
  await tx.lockThreads(candidates);
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
  await tx.audit(...removed.map((threadId) => ({ actor, action: AuditAction.ParticipantRemoved, threadId, subjectUserId: userId, teamId })));
  await announce(tx, removed, actor, after, { removedIds: [userId], at: now });
}

/** One PARTICIPANTS_CHANGED per thread, with its participants after the change. */
async function announce(tx: AuditedTx, threadIds: string[], actor: Actor, after: Map<string, string[]>, change: { addedIds?: string[]; removedIds?: string[]; at: Date }) {
  for (const threadId of threadIds) await tx.emit(PARTICIPANTS_CHANGED, participantsChanged(threadId, actor, after.get(threadId) ?? [], change));
}

/** Each thread's participants' ids. */
async function participantsOf(m: EntityManager, threadIds: string[]): Promise<Map<string, string[]>> {
  const byThread = new Map<string, string[]>(threadIds.map((id) => [id, []]));
  for (const ids of batches(threadIds)) {
    for (const p of await m.find(Participant, { where: { threadId: In(ids) }, select: { threadId: true, userId: true } })) byThread.get(p.threadId)?.push(p.userId);
  }
  return byThread;
}
