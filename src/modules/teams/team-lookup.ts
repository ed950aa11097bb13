import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { notFound } from '../../errors';
import { Team } from './team.entity';

/** The team; NOT_FOUND for an unknown id (or text that is no id). */
export async function teamOrFail(m: EntityManager, teamId: string): Promise<Team> {
  const team = isId(teamId) ? await m.findOneBy(Team, { id: teamId }) : null;
  if (!team) throw notFound('Team');
  return team;
}
