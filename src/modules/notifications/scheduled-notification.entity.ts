import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Where a (recipient, thread) pair is in its cycle (notification-rules.ts). */
export enum NotificationStage {
  /** A message waits unread: tell them at `dueAt`. */
  WAITING = 'WAITING',
  /** A patient was told; at `dueAt` (a day later) remind them once if it is still unread. */
  REMINDER = 'REMINDER',
  /** They were told; until `dueAt` nothing more is sent for this thread (the digest's window). */
  SENT = 'SENT',
}

/**
 * The notification schedule: at most one row per recipient and thread,
 * written in the transaction of the message (or escalation) that calls for
 * it, taken by one instance at a time under a lease (notifier.ts).
 */
@Entity('notifications')
@Index('IDX_notifications_due', ['dueAt'])
export class ScheduledNotification {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  userId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  threadId!: string;

  @Column({ type: 'varchar', length: 16 })
  stage!: NotificationStage;

  @Column()
  dueAt!: Date;

  /** The thread's messages up to this sequence number were covered by the last notification (0 before the first). */
  @Column({ type: 'integer' })
  seq!: number;

  /** When they were last told about this thread; null before the first time. */
  @Column({ type: Date, nullable: true })
  notifiedAt!: Date | null;

  /** Failed sends in a row, for the backoff. */
  @Column({ type: 'integer' })
  attempts!: number;

  /** The instance round that holds the row, until `leaseUntil`: another round takes it only after. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  leaseId!: string | null;

  @Column({ type: Date, nullable: true })
  leaseUntil!: Date | null;

  /** This round's channels already sent (a retry sends only the others). */
  @Column({ type: Date, nullable: true })
  emailSentAt!: Date | null;

  @Column({ type: Date, nullable: true })
  pushSentAt!: Date | null;
}
