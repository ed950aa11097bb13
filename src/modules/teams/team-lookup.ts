import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { notFound } from '../../errors';
import { Team } from './team.entity';

/** The team, if of `organisationId`; NOT_FOUND for an unknown id (or text that is no id) as for another organisation's team. */
export async function teamOrFail(m: EntityManager, teamId: string, organisationId: string): Promise<Team> {
  const team = isId(teamId) ? await m.findOneBy(Team, { id: teamId, organisationId }) : null;
  if (!team) throw notFound('Team');
  return team;
}
