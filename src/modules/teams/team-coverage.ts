import type { EntityManager } from 'typeorm';
import { badUserInput } from '../../errors';
import { UserKind } from '../users/user-kind';
import { User } from '../users/user.entity';
import { TeamMember } from './team-member.entity';
import { Team } from './team.entity';

/**
 * The coverage rule: an auto-CC team keeps at least `minimumContactable`
 * contactable, enabled members, so that a patient writing to it always
 * reaches someone. Call it inside the transaction of a change that takes
 * `userId` out of the contactable members of `teamId` (a removal), or of every
 * team they belong to when `teamId` is omitted (marking themself not
 * contactable), before making the change.
 *
 * Refused with BAD_USER_INPUT naming each team, its minimum and its count,
 * when the user is one of those members and the team would be left below its
 * minimum, even when it was below already: only decreases are refused, so a
 * team is built up member by member and turning auto-CC on is never refused.
 * Teams without auto-CC, and users who are not counted (not contactable,
 * disabled), pass. Disabling an account is not a change of this kind (see
 * UserService.setDisabled).
 *
 * On PostgreSQL the teams' rows are locked in id order before counting, so two
 * members leaving at once cannot both pass the check on the same count and
 * two such changes never deadlock; SQLite transactions already take turns
 * (unit-of-work.ts).
 */
export async function requireCoverageWithout(m: EntityManager, userId: string, teamId?: string): Promise<void> {
  const teams = m.createQueryBuilder(Team, 't').where('t.autoCc = :yes', { yes: true }).orderBy('t.id', 'ASC');
  const teamsOfUser = m.createQueryBuilder(TeamMember, 'tm').select('tm.teamId').where('tm.userId = :userId');
  if (teamId) teams.andWhere('t.id = :teamId', { teamId });
  else teams.andWhere(`t.id IN (${teamsOfUser.getQuery()})`, { userId });
  // As tx.lockTeams(ids, 'change'): not FOR UPDATE, which foreign-key checks on the team wait for.
  if (m.connection.options.type === 'postgres') teams.setLock('for_no_key_update');
  const locked = await teams.getMany();
  if (!locked.length) return;

  const present = await m
    .createQueryBuilder(TeamMember, 'tm')
    .innerJoin(User, 'u', 'u.id = tm.userId')
    .where('tm.teamId IN (:...teamIds)', { teamIds: locked.map((t) => t.id) })
    .andWhere('u.kind = :professional AND u.contactable = :yes AND u.disabled = :no', { professional: UserKind.PROFESSIONAL, yes: true, no: false })
    .getMany();
  const problems = locked.flatMap((team) => {
    const members = present.filter((tm) => tm.teamId === team.id);
    const min = team.minimumContactable;
    if (!members.some((tm) => tm.userId === userId) || members.length - 1 >= min) return [];
    return [`Team "${team.name}" must keep at least ${min} contactable member${min === 1 ? '' : 's'}; it has ${members.length}`];
  });
  if (problems.length) throw badUserInput(`${problems.join('; ')}. An admin may lower the minimum.`);
}
