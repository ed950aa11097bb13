import type { EntityManager } from 'typeorm';
import type { InboxChangedEvent } from '../../events/event-bus';
import { Absence } from '../absences/absence.entity';
import { TeamMember } from '../teams/team-member.entity';
import { Participant } from '../threads/participant.entity';
import type { ThreadTeam } from '../threads/thread-team.entity';
import { User } from '../users/user.entity';

/**
 * The live event of a change of the team's handling of the thread, for the
 * team's members in the thread (read inside the transaction). An escalation
 * alert (`escalatedAt`: the scheduler's now) goes to those who can act on it
 * then: enabled accounts, not away. Absent members still get every other change.
 */
export async function inboxChanged(
  m: EntityManager,
  item: Pick<ThreadTeam, 'threadId' | 'teamId'>,
  actorId: string,
  escalatedAt: Date | null = null,
): Promise<InboxChangedEvent> {
  const members = m
    .createQueryBuilder(Participant, 'p')
    .innerJoin(TeamMember, 'tm', 'tm.userId = p.userId AND tm.teamId = :teamId', { teamId: item.teamId })
    .where('p.threadId = :threadId', { threadId: item.threadId })
    .select('p.userId', 'userId');
  if (escalatedAt) {
    members.innerJoin(User, 'u', 'u.id = p.userId AND u.disabled = :disabled', { disabled: false }).andWhere((q) => {
      const away = q.subQuery().select('1').from(Absence, 'a').where('a.userId = p.userId AND a.startsAt <= :now AND a.endsAt > :now');
      return `NOT EXISTS ${away.getQuery()}`;
    }, { now: escalatedAt });
  }
  const recipientIds = (await members.getRawMany<{ userId: string }>()).map((r) => r.userId);
  return { threadId: item.threadId, teamId: item.teamId, recipientIds, escalated: escalatedAt !== null, actorId, at: new Date().toISOString() };
}
