import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { Organisation } from '../organisations/organisation.entity';
import { AuditEvent, AuditEventOrganisation } from './audit-event.entity';

/**
 * The first organisation, the one everything moved into (migration
 * 1773000000000): events from before organisations name none, and are its.
 */
const oldestFirst = <T extends object>(q: SelectQueryBuilder<T>) => q.orderBy('fo.createdAt', 'ASC').addOrderBy('fo.id', 'ASC').limit(1);

/** The id of the first organisation (see oldestFirst). */
export async function firstOrganisationId(m: EntityManager): Promise<string> {
  const first = await oldestFirst(m.createQueryBuilder(Organisation, 'fo').select('fo.id', 'id')).getRawOne<{ id: string }>();
  if (!first) throw new Error('no organisation exists: the database is not migrated');
  return first.id;
}

/**
 * Keeps the events (`e`) of `q` that concern `organisationId`: naming it as
 * their first organisation or among the others, or naming none when it is the
 * first organisation.
 */
export function ofOrganisation(q: SelectQueryBuilder<AuditEvent>, organisationId: string): SelectQueryBuilder<AuditEvent> {
  const linked = q.subQuery().select('ao.eventId').from(AuditEventOrganisation, 'ao').where('ao.organisationId = :scopeOrganisationId').getQuery();
  const first = oldestFirst(q.subQuery().select('fo.id').from(Organisation, 'fo')).getQuery();
  return q.andWhere(`(e.organisationId = :scopeOrganisationId OR e.id IN ${linked} OR (e.organisationId IS NULL AND :scopeOrganisationId = ${first}))`, {
    scopeOrganisationId: organisationId,
  });
}
