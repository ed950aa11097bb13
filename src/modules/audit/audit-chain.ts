import { createHash } from 'node:crypto';
import type { AuditEvent } from './audit-event.entity';

/** What the first event is chained onto. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An event's content as hashed: everything but its id and hashes, plus the patients and the
 * organisations it concerns (none for events from before organisations).
 */
export type ChainedContent = Omit<AuditEvent, 'id' | 'chainSeq' | 'prevHash' | 'hash' | 'organisationId'> & { patientIds: string[]; organisationIds: string[] };

/**
 * The canonical form of an event: a JSON array in a fixed field order, times
 * as ISO 8601 UTC, patient and organisation ids sorted; the organisations only
 * when there are any, so that events from before them hash as they did, and
 * likewise the channel (an object, never taken for the organisations) only
 * when there is one.
 * Changing it breaks every existing chain.
 */
export function canonical(e: ChainedContent): string {
  return JSON.stringify([
    e.at.toISOString(),
    e.action,
    e.outcome,
    e.reason,
    e.actorId,
    e.actorRole,
    e.actorTeamId,
    e.threadId,
    e.messageId,
    e.subjectUserId,
    e.patientId,
    e.teamId,
    [...e.patientIds].sort(),
    e.recipients,
    e.requestId,
    e.clientIp,
    e.userAgent,
    e.instanceId,
    ...(e.organisationIds.length ? [[...e.organisationIds].sort()] : []),
    ...(e.channel ? [{ channel: e.channel }] : []),
  ]);
}

/** SHA-256 (hex) over the previous event's hash and this event's canonical content. */
export function chainHash(prevHash: string, content: ChainedContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonical(content)).digest('hex');
}

/**
 * The hash of a link of an organisation's chain (audit-organisation-chain.ts):
 * SHA-256 (hex) over the link before it (GENESIS_HASH for the first) and the
 * hash of the event it links. The event's hash covers its content, so the
 * organisation's chain covers its events without holding anyone else's.
 */
export function organisationLinkHash(prevHash: string, eventHash: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(eventHash).digest('hex');
}
