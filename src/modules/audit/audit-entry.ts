import type { RequestOrigin } from '../../common/request-origin';
import type { Tx, UnitOfWork } from '../../database/unit-of-work';
import type { ParticipantFacts } from '../threads/participants';
import type { Actor } from '../users/user.entity';
import type { NotificationChannel } from '../notifications/notification-channel';
import type { AuditAction } from './audit-action';

/** One audit event to record (AuditService stores it; the sealer chains it). */
export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  threadId?: string | null;
  messageId?: string | null;
  subjectUserId?: string | null;
  /** The patient a care-network event concerns; a thread's patients are added by the audit writer. */
  patientId?: string | null;
  teamId?: string | null;
  /** The organisation an organisation's own event is about (ORGANISATION_CREATED, ORGANISATION_AUTO_CC_CHANGED, ORGANISATION_RENAMED). */
  organisationId?: string;
  /** DENIED with the reason, for an attempt that was refused. Default SUCCESS. */
  denied?: string;
  /** MESSAGE_DELIVERED: who the message was pushed to. */
  recipientIds?: string[];
  /** NOTIFICATION_SENT: the channel it went by. */
  channel?: NotificationChannel;
  /** The thread's participants as this transaction read them, when it did: the audit writer then reads them no second time. */
  participants?: readonly ParticipantFacts[];
  /** Where it came from, when recorded outside its request (a group commit of many requests); default the current request's. */
  origin?: RequestOrigin | null;
}

/** The unit of work of this server: its transactions audit AuditEntry. */
export type AuditedUnitOfWork = UnitOfWork<AuditEntry>;
export type AuditedTx = Tx<AuditEntry>;
