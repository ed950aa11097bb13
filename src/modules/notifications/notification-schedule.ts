import type { EntityManager } from 'typeorm';
import { placeholder, statement } from '../../database/statements';
import { tablePath } from '../../database/table-path';
import { insertRows } from '../../database/insert-rows';
import { INBOX_CHANGED } from '../../events/event-bus';
import { MESSAGE_STORED, type TxEvents } from '../../events/tx-events';
import type { AuditedTx, AuditedUnitOfWork } from '../audit/audit-entry';
import { seesStaffNotes } from '../messages/staff-notes';
import type { ParticipantFacts } from '../threads/participants';
import { UserKind } from '../users/user-kind';
import { NotificationSetting } from './notification-setting.entity';
import { effectiveSettings } from './notification-rules';
import { NotificationStage, ScheduledNotification } from './scheduled-notification.entity';

/**
 * Writes the notification schedule inside the transactions that call for a
 * notification, so that it commits with them and survives any restart:
 * - a message: each participant it reaches directly (not the author; for a
 *   staff-only note, professionals only) is due to be told after their delay.
 *   Members in the thread through a team are told as its escalation says,
 *   not of every message: that is the team's waiting limit's purpose.
 * - an escalation alert: the members it alerted (inbox-changed.ts decides
 *   who: enabled, not away) are due at once.
 * A (recipient, thread) already scheduled keeps its row: one notification per
 * window whatever the number of messages. A patient waiting for a reminder is
 * due again at the new message's delay instead. Registered only when a channel is configured.
 */
export function listenForNotifications(uow: AuditedUnitOfWork): void {
  uow.on(MESSAGE_STORED, (tx, event) => messageStored(tx, event));
  uow.on(INBOX_CHANGED, async (tx, alert) => {
    if (!alert.escalated || !alert.recipientIds.length) return;
    const at = new Date(alert.at);
    await insertRows(tx.manager, ScheduledNotification, alert.recipientIds.map((userId) => waitingRow(userId, alert.threadId, at, 0)), undefined, 'keep');
  });
}

async function messageStored(tx: AuditedTx, { message, author, participants }: TxEvents['MESSAGE_STORED']): Promise<void> {
  const recipients = participants.filter((p) => p.userId !== author.id && p.viaTeamId === null && (!message.staffOnly || seesStaffNotes(p)));
  if (!recipients.length) return;
  const m = tx.manager;
  const at = new Date(message.createdAt);
  const settings = await settingsOf(m, recipients);
  const rows = recipients.flatMap((p) => {
    const { channels, delayMinutes } = effectiveSettings(settings.get(p.userId) ?? null, p.kind);
    return channels.length ? [waitingRow(p.userId, message.threadId, new Date(at.getTime() + delayMinutes * 60_000), message.seq)] : [];
  });
  await insertRows(m, ScheduledNotification, rows, undefined, 'keep');
  // A patient's row kept for a reminder (only patients have one): the new message is told about after its own delay.
  const patients = new Set(recipients.filter((p) => p.kind === UserKind.PATIENT).map((p) => p.userId));
  for (const row of rows.filter((r) => patients.has(r.userId))) {
    await m.update(ScheduledNotification, { userId: row.userId, threadId: row.threadId, stage: NotificationStage.REMINDER }, { stage: NotificationStage.WAITING, dueAt: row.dueAt, seq: row.seq });
  }
}

/** The stored settings of those recipients who changed theirs (most have not: no row), in one statement written once per count. */
async function settingsOf(m: EntityManager, recipients: ParticipantFacts[]): Promise<Map<string, NotificationSetting>> {
  const db = m.connection;
  const sql = statement(db, `notificationSettingsOf ${recipients.length}`, () => {
    const list = recipients.map((_, i) => placeholder(db, i + 1)).join(', ');
    return `SELECT "userId", "email", "push", "delayMinutes" FROM ${tablePath(m, db.getMetadata(NotificationSetting).tableName)} WHERE "userId" IN (${list})`;
  });
  const rows: (Pick<NotificationSetting, 'userId' | 'delayMinutes'> & { email: boolean | number; push: boolean | number })[] = await m.query(sql, recipients.map((p) => p.userId));
  // Quiet hours are the notifier's to read, when a notification is due: not needed here.
  return new Map(rows.map((row) => [row.userId, { ...row, email: Boolean(row.email), push: Boolean(row.push), quietStart: null, quietEnd: null, timeZone: null }]));
}

/** A new row of the schedule: `userId` is to be told of the thread's messages from `seq` at `dueAt`. */
export function waitingRow(userId: string, threadId: string, dueAt: Date, seq: number): ScheduledNotification {
  return { userId, threadId, stage: NotificationStage.WAITING, dueAt, seq, notifiedAt: null, attempts: 0, leaseId: null, leaseUntil: null, emailSentAt: null, pushSentAt: null };
}
