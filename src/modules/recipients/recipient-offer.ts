import type { EntityManager } from 'typeorm';
import { LIKE_ESCAPE } from '../../common/text';
import { ProfessionalShare, TeamShare } from '../care-network/record-share.entity';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { Participant } from '../threads/participant.entity';
import { UserKind } from '../users/user-kind';
import { User } from '../users/user.entity';

/**
 * The rules of recipient-policy.ts restated as SQL, so that the database searches, orders and cuts the
 * drop-down (RecipientService.options), and the facts those rules judge a pick by, as SQL over the
 * picked ids only (RecipientService.resolve). judgeUser and judgeTeam stay the rule: a pick is refused
 * when they refuse it, and the conditions here must offer exactly what they accept
 * (test/recipients.test.ts checks both sides of every rule, and that the offer and the refusal agree).
 *
 * Conditions name their aliases and use the parameters of offerParams. A subquery correlated with the
 * row it is about compares with that row's `id` only, which PostgreSQL and SQLite both read unquoted.
 */

/** The parameters every condition here may use; `organisationId` is the caller's (null for a patient). */
export function offerParams(callerId: string, organisationId: string | null, threadId: string | null, pattern: string | null) {
  return { callerId, organisationId, threadId, pattern, yes: true, no: false, professional: UserKind.PROFESSIONAL, patient: UserKind.PATIENT };
}

/** `column` holds the search pattern (see likeContaining). */
export const matches = (column: string) => `${column} LIKE :pattern ESCAPE '${LIKE_ESCAPE}'`;

/** Team member `u` would be added by picking their team: reached by it, and not a participant. */
export const addableMember = (scope: OfferScope, u: string) => `${reachable(u)} AND ${notParticipant(scope, u)}`;

/** User `u` is reached by a message to their team: a contactable, enabled professional other than the caller (judgeTeam). */
export const reachable = (u: string) => `${u}.kind = :professional AND ${u}.contactable = :yes AND ${u}.disabled = :no AND ${u}.id <> :callerId`;

/** What the drop-down is asked for: by a patient or a professional, for a thread (:threadId) or not, with a search (:pattern) or not. */
export interface OfferScope {
  m: EntityManager;
  patientCaller: boolean;
  inThread: boolean;
  search: boolean;
}

/** User `u` is not a participant of the thread :threadId (always true outside a thread). */
const notParticipant = ({ m, inThread }: OfferScope, u: string) =>
  inThread ? `${u}.id NOT IN (${m.createQueryBuilder(Participant, 'p').select('p.userId').where('p.threadId = :threadId').getQuery()})` : '1 = 1';

/** Auto-CC teams (`act`) with their memberships (`actm`): judgeUser refuses their members on their own. */
export const autoCcMemberships = (m: EntityManager) =>
  m.createQueryBuilder(Team, 'act').innerJoin(TeamMember, 'actm', 'actm.teamId = act.id').where('act.autoCc = :yes');

/** Ids of the patients who shared their record with the caller, a professional, or with one of their teams. */
export const patientsSharingWithCaller = (m: EntityManager) => {
  const direct = m.createQueryBuilder(ProfessionalShare, 'sps').select('sps.patientId').where('sps.professionalId = :callerId');
  const viaTeam = m
    .createQueryBuilder(TeamShare, 'sts')
    .select('sts.patientId')
    .innerJoin(TeamMember, 'stm', 'stm.teamId = sts.teamId')
    .where('stm.userId = :callerId');
  return `${direct.getQuery()} UNION ${viaTeam.getQuery()}`;
};

/**
 * Whose care network: the caller's, a patient's; or that of the patients in the thread :threadId, which a
 * professional in it may reach across organisations (recipient-policy.ts, RecipientFacts.threadNetwork).
 */
export type NetworkOf = 'caller' | 'thread';

const patientIn = (m: EntityManager, of: NetworkOf, column: string) =>
  of === 'caller'
    ? `${column} = :callerId`
    : `${column} IN (${m.createQueryBuilder(Participant, 'npp').select('npp.userId').innerJoin(User, 'npu', 'npu.id = npp.userId').where('npp.threadId = :threadId AND npu.kind = :patient').getQuery()})`;

/** Ids of the professionals the patient or patients (`of`) shared their record with directly. */
export const directlySharedWith = (m: EntityManager, of: NetworkOf = 'caller') =>
  m.createQueryBuilder(ProfessionalShare, 'nps').select('nps.professionalId').where(patientIn(m, of, 'nps.patientId')).getQuery();

/** Ids of the teams the patient or patients (`of`) shared their record with. */
export const teamsSharedWith = (m: EntityManager, of: NetworkOf = 'caller') =>
  m.createQueryBuilder(TeamShare, 'nts').select('nts.teamId').where(patientIn(m, of, 'nts.patientId')).getQuery();

/** Ids of the members of the teams the patient or patients (`of`) shared their record with. */
export const sharedTeamMembers = (m: EntityManager, of: NetworkOf = 'caller') =>
  m.createQueryBuilder(TeamMember, 'ntm').select('ntm.userId').where(`ntm.teamId IN (${teamsSharedWith(m, of)})`).getQuery();

/** User `u` is offered on their own: judgeUser accepts them, they are not a participant, and they match the search. */
export function offeredUser(scope: OfferScope, u: string): string {
  const { m, patientCaller, inThread } = scope;
  const inNetwork = (of: NetworkOf) => `(${u}.id IN (${directlySharedWith(m, of)}) OR ${u}.id IN (${sharedTeamMembers(m, of)}))`;
  const sameOrganisation = `${u}.organisationId = :organisationId`;
  const professional = [
    `${u}.kind = :professional AND ${u}.contactable = :yes`,
    `NOT EXISTS (${autoCcMemberships(m).select('1').andWhere(`actm.userId = ${u}.id`).getQuery()})`,
    patientCaller ? inNetwork('caller') : inThread ? `(${sameOrganisation} OR ${inNetwork('thread')})` : sameOrganisation,
  ].join(' AND ');
  const patient = patientCaller ? '' : ` OR (${u}.kind = :patient AND ${u}.id IN (${patientsSharingWithCaller(m)}))`;
  const search = scope.search ? ` AND ${matches(`${u}.searchName`)}` : '';
  return `${u}.id <> :callerId AND ${u}.disabled = :no AND ${notParticipant(scope, u)}${search} AND ((${professional})${patient})`;
}

/**
 * Team `t` is offered (judgeTeam accepts it, and picking it would add someone: a member reached who is not a
 * participant), and, when :pattern is set, it or such a member matches the search.
 */
export function offeredTeam(scope: OfferScope, t: string): string {
  const { m, patientCaller, search } = scope;
  const addable = (matching: boolean) => {
    const q = m
      .createQueryBuilder(TeamMember, 'otm')
      .select('1')
      .innerJoin(User, 'otu', 'otu.id = otm.userId')
      .where(`otm.teamId = ${t}.id AND ${addableMember(scope, 'otu')}`);
    if (matching) q.andWhere(matches('otu.searchName'));
    return `EXISTS (${q.getQuery()})`;
  };
  const sameOrganisation = `${t}.organisationId = :organisationId`;
  return [
    `${t}.autoCc = :yes`,
    patientCaller ? `${t}.id IN (${teamsSharedWith(m)})` : scope.inThread ? `(${sameOrganisation} OR ${t}.id IN (${teamsSharedWith(m, 'thread')}))` : sameOrganisation,
    addable(false),
    ...(search ? [`(${matches(`${t}.searchName`)} OR ${addable(true)})`] : []),
  ].join(' AND ');
}
