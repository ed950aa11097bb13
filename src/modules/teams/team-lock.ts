import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { Team } from './team.entity';

/**
 * Makes membership changes and the thread changes that read a team's members
 * take turns, per team (PostgreSQL; SQLite transactions already take turns):
 * a thread picking a team while a member is removed either sees the removal
 * or is seen by it, never neither. `change` (adding or removing a member,
 * the coverage count) locks the rows FOR NO KEY UPDATE, which the foreign-key
 * checks of participants and thread_teams (FOR KEY SHARE) do not wait for;
 * `read` (creating a thread, adding participants) locks them FOR SHARE. Teams
 * in id order, before any thread row: the order every transaction takes
 * locks in is teams, threads, inbox items, then the audit chain.
 */
export async function lockTeams(m: EntityManager, teamIds: string[], mode: 'change' | 'read'): Promise<void> {
  const ids = [...new Set(teamIds.filter(isId))].sort();
  if (m.connection.options.type !== 'postgres' || !ids.length) return;
  await m
    .createQueryBuilder(Team, 't')
    .select('t.id')
    .where('t.id IN (:...ids)', { ids })
    .orderBy('t.id', 'ASC')
    .setLock(mode === 'change' ? 'for_no_key_update' : 'pessimistic_read')
    .getMany();
}
