import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One account's notification settings, once they changed any (the defaults otherwise: notification-rules.ts). Not in the API as such. */
@Entity('notification_settings')
export class NotificationSetting {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'boolean' })
  email!: boolean;

  @Column({ type: 'boolean' })
  push!: boolean;

  /** Minutes a message waits unread before a notification. */
  @Column({ type: 'integer' })
  delayMinutes!: number;

  /** Quiet hours, local "HH:MM" in `timeZone`; all three set or none. */
  @Column({ type: 'varchar', length: 5, nullable: true })
  quietStart!: string | null;

  @Column({ type: 'varchar', length: 5, nullable: true })
  quietEnd!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  timeZone!: string | null;
}
