import type { EntityManager } from 'typeorm';
import { placeholder, statement } from '../../database/statements';
import { tablePath } from '../../database/table-path';
import type { Tx } from '../../database/unit-of-work';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { Participant } from '../threads/participant.entity';
import { InboxStatus, ThreadTeam } from '../threads/thread-team.entity';
import { Thread } from '../threads/thread.entity';

/**
 * When a team's members are to be alerted about a thread: its wait plus the
 * team's limit, while the thread is open in the team's inbox and this wait
 * has not been escalated yet (each wait is escalated once). Null otherwise.
 */
export function escalationDue(
  item: Pick<ThreadTeam, 'status' | 'escalatedWaitingSince'>,
  waitingSince: Date | null,
  waitingLimitMinutes: number | null,
): Date | null {
  if (item.status !== InboxStatus.OPEN || !waitingSince || waitingLimitMinutes === null) return null;
  if (item.escalatedWaitingSince?.getTime() === waitingSince.getTime()) return null;
  return new Date(waitingSince.getTime() + waitingLimitMinutes * 60_000);
}

/**
 * Brings the stored schedule (thread_teams.escalationDueAt) in line with
 * escalationDue for the inbox items matching `where`, inside the transaction
 * that changed what it depends on, so that the schedule every instance polls
 * is never stale. `memberId`: the items of the threads a member of their team
 * is in, when that member may be present again (an absence cancelled, a team
 * joined): an alert held back while everyone was away becomes due as it
 * would have been, and the next round sends it or holds it again. Only the
 * inbox module's listeners call it (inbox.listeners.ts), at the inbox items'
 * place in the lock order.
 */
export function reschedule(tx: Tx<unknown>, where: ScheduleScope): Promise<void> {
  return tx.lockInboxItems(async (m) => applySchedule(m, await scheduledItems(m, where)));
}

/**
 * The thread's inbox items with what their schedule depends on, at the inbox
 * items' place in the order: for a listener that changes some of them and
 * then brings the schedule in line with `rescheduleItems`, in one read where
 * two would do.
 */
export function threadItems(tx: Tx<unknown>, threadId: string): Promise<ScheduledItem[]> {
  return tx.lockInboxItems((m) => scheduledItems(m, { threadId }));
}

/** reschedule, for items read by threadItems (as they are now in memory). */
export function rescheduleItems(tx: Tx<unknown>, items: ScheduledItem[]): Promise<void> {
  return tx.lockInboxItems((m) => applySchedule(m, items));
}

/**
 * reschedule once the thread has no wait: escalationDue is null for every
 * item then, so this needs no read, only one statement.
 */
export function unschedule(tx: Tx<unknown>, threadId: string): Promise<void> {
  return tx.lockInboxItems(async (m) => {
    const db = m.connection;
    const sql = statement(db, 'unschedule', () => `UPDATE ${tablePath(m, db.getMetadata(ThreadTeam).tableName)} SET "escalationDueAt" = NULL WHERE "threadId" = ${placeholder(db, 1)} AND "escalationDueAt" IS NOT NULL`);
    await m.query(sql, [threadId]);
  });
}

type ScheduleScope = { threadId: string } | { teamId: string } | { memberId: string };

/** An inbox item with its thread's wait and its team's limit. */
export type ScheduledItem = ThreadTeam & { thread: Thread; team: Team };

async function scheduledItems(m: EntityManager, where: ScheduleScope): Promise<ScheduledItem[]> {
  const q = m
    .createQueryBuilder(ThreadTeam, 'tt')
    .innerJoinAndMapOne('tt.thread', Thread, 't', 't.id = tt.threadId')
    .innerJoinAndMapOne('tt.team', Team, 'tm', 'tm.id = tt.teamId');
  if ('threadId' in where) q.where('tt.threadId = :threadId', where);
  else if ('teamId' in where) q.where('tt.teamId = :teamId', where);
  else {
    q.innerJoin(Participant, 'p', 'p.threadId = tt.threadId AND p.userId = :memberId', where);
    q.innerJoin(TeamMember, 'member', 'member.teamId = tt.teamId AND member.userId = :memberId', where);
  }
  return (await q.getMany()) as ScheduledItem[];
}

async function applySchedule(m: EntityManager, items: ScheduledItem[]): Promise<void> {
  for (const item of items) {
    const due = escalationDue(item, item.thread.waitingSince, item.team.waitingLimitMinutes);
    if (due?.getTime() === item.escalationDueAt?.getTime()) continue;
    await m.update(ThreadTeam, { threadId: item.threadId, teamId: item.teamId }, { escalationDueAt: due });
    item.escalationDueAt = due;
  }
}
