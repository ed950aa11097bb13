import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { checkPageSize, decodeCursor, encodeCursor, toPage } from '../../common/pagination';
import { badUserInput, forbidden } from '../../errors';
import { UserKind } from '../users/user-kind';
import type { User } from '../users/user.entity';
import { requireAdmin } from '../users/user-rules';
import { AuditAction } from './audit-action';
import { AuditEvent, AuditEventPatient } from './audit-event.entity';
import { ofOrganisation } from './audit-scope';
import type { AuditEventFilter, AccessLogEntry } from './audit-search.types';
import type { AuditedUnitOfWork } from './audit-entry';
import type { DeliveryRecipient } from './audit.service';
import { patientView } from './patient-view';

/** What the patient access log counts as someone seeing the patient's threads or messages, or being told that one waits (no content). */
const ACCESSES = [AuditAction.ThreadRead, AuditAction.MessageDelivered, AuditAction.AttachmentRead, AuditAction.AuditTrailRead, AuditAction.NotificationSent];
const ACTIONS = new Set<string>(Object.values(AuditAction));
/** Events read per round while filling a page of the access log (one delivery can be many entries). */
const ACCESS_CHUNK = 100;
/** Above every event id: the largest value of the id column (a PostgreSQL integer; more is out of range there). */
const MAX_EVENT_ID = 2_147_483_647;

/** Reads the audit trail for signed-in users: the admin search and each patient's access log, each read itself recorded. */
export class AuditSearchService {
  private readonly db: DataSource;
  private readonly uow: AuditedUnitOfWork;

  constructor(deps: { db: DataSource; uow: AuditedUnitOfWork }) {
    ({ db: this.db, uow: this.uow } = deps);
  }

  /** Admins only: events of their organisation (audit-scope.ts) matching `filter`, newest first. */
  async search(viewer: User, filter: AuditEventFilter, page: { first: number; after?: string | null }) {
    const organisationId = requireAdmin(viewer);
    const first = checkPageSize(page.first);
    const q = ofOrganisation(matching(this.db, filter), organisationId).orderBy('e.id', 'DESC').take(first + 1);
    if (page.after) q.andWhere('e.id < :before', { before: decodeCursor(page.after, ['number'])[0] });
    // Recorded (and committed) first: the search finds its own event, and a search that cannot be audited fails.
    await this.uow.run((tx) => tx.audit({ actor: viewer, action: AuditAction.AuditSearched, threadId: filter.threadId ?? null, patientId: filter.patientId ?? null }));
    return toPage(await q.getMany(), first, (e) => encodeCursor([e.id]));
  }

  /**
   * A patient's own access log: who saw their threads and messages (read them,
   * were pushed them live, read their audit trail), or tried to, newest first.
   * Their own accesses are left out unless `includeOwn`.
   */
  async accessLog(viewer: User, page: { first: number; after?: string | null; includeOwn: boolean }) {
    if (viewer.kind !== UserKind.PATIENT) throw forbidden('The access log is for patients: it lists who saw their own threads');
    const first = checkPageSize(page.first);
    let [beforeEvent, beforeIndex] = page.after ? decodeCursor(page.after, ['number', 'number']) : [MAX_EVENT_ID, 0];
    const entries: AccessLogEntry[] = [];
    await this.uow.run((tx) => tx.audit({ actor: viewer, action: AuditAction.AccessLogRead, patientId: viewer.id }));
    while (entries.length <= first) {
      const events = await patientView(
        this.db.manager
          .createQueryBuilder(AuditEvent, 'e')
          .innerJoin(AuditEventPatient, 'p', 'p.eventId = e.id AND p.patientId = :patientId', { patientId: viewer.id })
          .where('e.action IN (:...actions)', { actions: ACCESSES })
          .andWhere('e.id <= :beforeEvent', { beforeEvent }),
      )
        .orderBy('e.id', 'DESC')
        .take(ACCESS_CHUNK)
        .getMany();
      for (const event of events) {
        const accessors = accessorsOf(event).filter(({ index }) => event.id < beforeEvent || index < beforeIndex);
        for (const { accessor, index } of accessors.reverse()) {
          if (!page.includeOwn && accessor.id === viewer.id) continue;
          entries.push({
            at: event.at,
            action: event.action,
            outcome: event.outcome,
            userId: accessor.id,
            role: accessor.role,
            teamId: accessor.teamId,
            threadId: event.threadId,
            messageId: event.messageId,
            eventId: event.id,
            recipientIndex: index,
          });
        }
      }
      if (events.length < ACCESS_CHUNK) break;
      [beforeEvent, beforeIndex] = [events[events.length - 1].id - 1, Number.MAX_SAFE_INTEGER];
    }
    return toPage(entries, first, (e) => encodeCursor([e.eventId, e.recipientIndex]));
  }
}

/** Who an access event shows: its actor, or for a live delivery each recipient; `index` orders them within the event. */
function accessorsOf(event: AuditEvent): { accessor: DeliveryRecipient; index: number }[] {
  if (event.action !== AuditAction.MessageDelivered) {
    return [{ accessor: { id: event.actorId, role: event.actorRole, teamId: event.actorTeamId }, index: 0 }];
  }
  return (JSON.parse(event.recipients ?? '[]') as DeliveryRecipient[]).map((accessor, index) => ({ accessor, index }));
}

/**
 * Every event matching `filter` (and of `organisationId`, when given: audit-scope.ts), oldest first,
 * `chunk` at a time (for the FHIR export), each with the patients it concerns. Not itself audited: the
 * export is run by an operator on the server, not by a signed-in user.
 */
export async function* exportAuditEvents(
  db: DataSource,
  filter: AuditEventFilter,
  chunk = 1_000,
  organisationId: string | null = null,
): AsyncGenerator<{ event: AuditEvent; patientIds: string[] }[]> {
  let after = 0;
  for (;;) {
    const q = matching(db, filter);
    if (organisationId) ofOrganisation(q, organisationId);
    const events = await q.andWhere('e.id > :after', { after }).orderBy('e.id', 'ASC').take(chunk).getMany();
    if (!events.length) return;
    const links = await db.manager
      .createQueryBuilder(AuditEventPatient, 'p')
      .where('p.eventId IN (:...ids)', { ids: events.map((e) => e.id) })
      .getMany();
    const patientsOf = new Map<number, string[]>();
    for (const link of links) patientsOf.set(link.eventId, [...(patientsOf.get(link.eventId) ?? []), link.patientId]);
    yield events.map((event) => ({ event, patientIds: patientsOf.get(event.id) ?? [] }));
    after = events[events.length - 1].id;
  }
}

/** Events matching every field of `filter` that is set; BAD_USER_INPUT for an unknown action or an empty range. */
function matching(db: DataSource, filter: AuditEventFilter): SelectQueryBuilder<AuditEvent> {
  if (filter.action && !ACTIONS.has(filter.action)) throw badUserInput(`action must be one of ${[...ACTIONS].join(', ')}`);
  if (filter.from && filter.to && filter.from > filter.to) throw badUserInput('from must not be after to');
  const q = db.manager.createQueryBuilder(AuditEvent, 'e');
  if (filter.actorId) q.andWhere('e.actorId = :actorId', { actorId: filter.actorId });
  if (filter.threadId) q.andWhere('e.threadId = :threadId', { threadId: filter.threadId });
  if (filter.action) q.andWhere('e.action = :action', { action: filter.action });
  if (filter.outcome) q.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
  if (filter.from) q.andWhere('e.at >= :from', { from: filter.from });
  if (filter.to) q.andWhere('e.at <= :to', { to: filter.to });
  if (filter.patientId) {
    const concerns = q.subQuery().select('1').from(AuditEventPatient, 'p').where('p.eventId = e.id AND p.patientId = :patientId').getQuery();
    q.andWhere(`EXISTS ${concerns}`, { patientId: filter.patientId }); // getQuery() is already parenthesised
  }
  return q;
}
