import type { SelectQueryBuilder } from 'typeorm';
import { Message } from '../messages/message.entity';
import { AuditAction } from './audit-action';
import type { AuditEvent } from './audit-event.entity';

/**
 * How the care team handles a thread is staff-only: these events name the
 * assignee (as actor or subject) and who was alerted, which the patient must
 * never learn.
 */
const TEAM_INBOX_ACTIONS = [
  AuditAction.ThreadAssigned,
  AuditAction.ThreadUnassigned,
  AuditAction.ThreadMarkedDone,
  AuditAction.ThreadReopened,
  AuditAction.ThreadEscalated,
];

/**
 * Narrows a query of audit events (alias `e`) to what a patient may read of
 * them: no team inbox events, and nothing about a staff-only note (its
 * sending, its deliveries), which would tell them that one exists.
 */
export function patientView(q: SelectQueryBuilder<AuditEvent>): SelectQueryBuilder<AuditEvent> {
  return q
    .andWhere('e.action NOT IN (:...teamInboxActions)', { teamInboxActions: TEAM_INBOX_ACTIONS })
    .andWhere((sub) => {
      const notes = sub.subQuery().select('1').from(Message, 'note').where('note.id = e.messageId AND note.staffOnly = :staffOnly').getQuery();
      return `NOT EXISTS ${notes}`;
    })
    .setParameter('staffOnly', true);
}
