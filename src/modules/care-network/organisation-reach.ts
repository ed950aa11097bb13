import type { EntityManager } from 'typeorm';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import { ProfessionalShare, TeamShare } from './record-share.entity';

/**
 * Ids of the patients who shared their record with someone of the organisation :organisationId: a
 * professional of it or one of its teams.
 */
export const patientsSharingWithOrganisation = (m: EntityManager) => {
  const direct = m
    .createQueryBuilder(ProfessionalShare, 'ops')
    .select('ops.patientId')
    .innerJoin(User, 'opu', 'opu.id = ops.professionalId')
    .where('opu.organisationId = :organisationId');
  const viaTeam = m.createQueryBuilder(TeamShare, 'ots').select('ots.patientId').innerJoin(Team, 'ott', 'ott.id = ots.teamId').where('ott.organisationId = :organisationId');
  return `${direct.getQuery()} UNION ${viaTeam.getQuery()}`;
};
