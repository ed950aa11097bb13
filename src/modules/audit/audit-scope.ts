import type { SelectQueryBuilder } from 'typeorm';
import { Organisation } from '../organisations/organisation.entity';
import { AuditEvent, AuditEventOrganisation } from './audit-event.entity';

/**
 * Keeps the events (`e`) of `q` that concern `organisationId`: naming it as
 * their first organisation or among the others. Events from before
 * organisations name none: they are the first organisation's, the one
 * everything moved into (migration 1773000000000).
 */
export function ofOrganisation(q: SelectQueryBuilder<AuditEvent>, organisationId: string): SelectQueryBuilder<AuditEvent> {
  const linked = q.subQuery().select('ao.eventId').from(AuditEventOrganisation, 'ao').where('ao.organisationId = :scopeOrganisationId').getQuery();
  const first = q.subQuery().select('fo.id').from(Organisation, 'fo').orderBy('fo.createdAt', 'ASC').addOrderBy('fo.id', 'ASC').limit(1).getQuery();
  return q.andWhere(`(e.organisationId = :scopeOrganisationId OR e.id IN ${linked} OR (e.organisationId IS NULL AND :scopeOrganisationId = ${first}))`, {
    scopeOrganisationId: organisationId,
  });
}
