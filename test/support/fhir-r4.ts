import type { AuditEvent as FhirAuditEvent } from 'fhir/r4';

// FHIR R4 AuditEvent checks shared by the exporter's unit test and the audit:export CLI test.

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** What R4 requires of an AuditEvent (cardinalities and required bindings) that JSON can get wrong; [] when none. */
export function r4Problems(r: FhirAuditEvent): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => ok || problems.push(`${r.id}: ${what}`);
  need(r.resourceType === 'AuditEvent', 'resourceType');
  need(typeof r.id === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(r.id), 'id');
  need(r.type?.system && r.type?.code, 'type (1..1 Coding)');
  need(typeof r.recorded === 'string' && INSTANT.test(r.recorded), 'recorded (instant)');
  need(r.action === undefined || ['C', 'R', 'U', 'D', 'E'].includes(r.action), 'action');
  need(r.outcome === undefined || ['0', '4', '8', '12'].includes(r.outcome), 'outcome');
  need(Array.isArray(r.agent) && r.agent.length >= 1, 'agent (1..*)');
  need(r.agent?.every((a) => typeof a.requestor === 'boolean'), 'agent.requestor (1..1)');
  need(r.agent?.filter((a) => a.requestor).length === 1, 'exactly one requestor');
  need(r.agent?.every((a) => !a.network || ['1', '2', '3', '4', '5'].includes(a.network.type!)), 'agent.network.type');
  need(r.source?.observer && (r.source.observer.reference || r.source.observer.display || r.source.observer.identifier), 'source.observer (1..1)');
  need((r.entity ?? []).every((e) => !(e.name && e.query)), 'sev-1: entity name or query, not both');
  need((r.extension ?? []).every((e) => e.url && Object.keys(e).some((k) => k.startsWith('value'))), 'extension url and value');
  return problems;
}

export const extension = (r: { extension?: { url: string; valueString?: string }[] }, url: string) => r.extension?.find((e) => e.url === url)?.valueString;
