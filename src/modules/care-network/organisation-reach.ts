import type { EntityManager } from 'typeorm';
import { Team } from '../teams/team.entity';
import { UserKind } from '../users/user-kind';
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

/**
 * User `u` is one an admin of `organisationId` may act on: a professional of the organisation, or a
 * patient it registered or who shared their record with it (CareNetworkService.userOfOrganisation, the
 * directory import). A condition and its parameters, for a query builder's `where`.
 */
export function reachedByOrganisation(m: EntityManager, u: string, organisationId: string): [string, Record<string, unknown>] {
  return [
    `((${u}.kind = :reachProfessional AND ${u}.organisationId = :organisationId) OR ` +
      `(${u}.kind = :reachPatient AND (${u}.registeredByOrganisationId = :organisationId OR ${u}.id IN (${patientsSharingWithOrganisation(m)}))))`,
    { organisationId, reachProfessional: UserKind.PROFESSIONAL, reachPatient: UserKind.PATIENT },
  ];
}
