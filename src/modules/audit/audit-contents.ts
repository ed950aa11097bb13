import { In, type EntityManager } from 'typeorm';
import type { ChainedContent } from './audit-chain';
import { AuditEventOrganisation, AuditEventPatient, type AuditEvent } from './audit-event.entity';

/** Each event's hashed content: its row, the patients it concerns and its organisations (the row's own, then any others). */
export async function chainedContents(m: EntityManager, events: AuditEvent[]): Promise<ChainedContent[]> {
  const ids = events.map((e) => e.id);
  const patients = new Map<number, string[]>();
  const organisations = new Map<number, string[]>();
  if (ids.length) {
    for (const { eventId, patientId } of await m.find(AuditEventPatient, { where: { eventId: In(ids) } })) patients.set(eventId, [...(patients.get(eventId) ?? []), patientId]);
    for (const { eventId, organisationId } of await m.find(AuditEventOrganisation, { where: { eventId: In(ids) } })) {
      organisations.set(eventId, [...(organisations.get(eventId) ?? []), organisationId]);
    }
  }
  return events.map((event) => ({
    ...event,
    patientIds: patients.get(event.id) ?? [],
    organisationIds: [...(event.organisationId ? [event.organisationId] : []), ...(organisations.get(event.id) ?? [])],
  }));
}
