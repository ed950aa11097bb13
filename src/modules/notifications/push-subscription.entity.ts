import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A browser's Web Push subscription (PushSubscription.toJSON()), registered by
 * a signed-in account. Removed when its push service answers 404 or 410, and
 * when the session that registered it is ended (signing out, everywhere, a
 * password change, the account disabled); not when that session merely
 * expires, since telling people who are away is what it is for.
 */
@Entity('push_subscriptions')
@Index('IDX_push_subscriptions_user', ['userId'])
@Index('IDX_push_subscriptions_session', ['sessionId'])
export class PushSubscription {
  /** The push service's URL for this browser: unique, so registering it again moves it to the account that did. */
  @PrimaryColumn({ type: 'varchar', length: 1000 })
  endpoint!: string;

  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  /** The sign-in session that registered it; null for a token of the identity provider (no session of ours). */
  @Column({ type: 'varchar', length: 36, nullable: true })
  sessionId!: string | null;

  /** The browser's P-256 public key (base64url). */
  @Column({ type: 'varchar', length: 100 })
  p256dh!: string;

  /** The browser's 16-byte authentication secret (base64url). */
  @Column({ type: 'varchar', length: 50 })
  auth!: string;

  @Column()
  createdAt!: Date;
}
