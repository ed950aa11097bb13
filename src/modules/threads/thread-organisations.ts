import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { Participant } from './participant.entity';
import { ThreadTeam } from './thread-team.entity';

/** Whether the organisation is in the thread: one of its professionals is a participant, or the thread is addressed to one of its teams. */
export async function organisationInThread(m: EntityManager, organisationId: string, threadId: string): Promise<boolean> {
  if (!isId(threadId)) return false;
  const participant = m
    .createQueryBuilder(Participant, 'p')
    .innerJoin(User, 'u', 'u.id = p.userId')
    .where('p.threadId = :threadId AND u.organisationId = :organisationId', { threadId, organisationId });
  if (await participant.getExists()) return true;
  return m
    .createQueryBuilder(ThreadTeam, 'tt')
    .innerJoin(Team, 't', 't.id = tt.teamId')
    .where('tt.threadId = :threadId AND t.organisationId = :organisationId', { threadId, organisationId })
    .getExists();
}
