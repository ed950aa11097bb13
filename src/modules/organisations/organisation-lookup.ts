import type { EntityManager } from 'typeorm';
import { isId } from '../../common/ids';
import { notFound } from '../../errors';
import { Organisation } from './organisation.entity';

/**
 * The organisation, read in `m`'s transaction and locked on PostgreSQL (SQLite's transactions take
 * turns): `share` to act by one of its settings, `update` to change them, so that a team turning
 * automatic CC on and the organisation disallowing it take turns. NOT_FOUND for an unknown id.
 */
export async function lockedOrganisation(m: EntityManager, organisationId: string, mode: 'share' | 'update'): Promise<Organisation> {
  const q = m.createQueryBuilder(Organisation, 'o').where('o.id = :organisationId', { organisationId });
  if (m.connection.options.type === 'postgres') q.setLock(mode === 'share' ? 'pessimistic_read' : 'pessimistic_write');
  const organisation = isId(organisationId) ? await q.getOne() : null;
  if (!organisation) throw notFound('Organisation');
  return organisation;
}
