import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A browser's Web Push subscription (PushSubscription.toJSON()), registered by a signed-in account; removed when its push service answers 404 or 410. */
@Entity('push_subscriptions')
@Index('IDX_push_subscriptions_user', ['userId'])
export class PushSubscription {
  /** The push service's URL for this browser: unique, so registering it again moves it to the account that did. */
  @PrimaryColumn({ type: 'varchar', length: 1000 })
  endpoint!: string;

  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  /** The browser's P-256 public key (base64url). */
  @Column({ type: 'varchar', length: 100 })
  p256dh!: string;

  /** The browser's 16-byte authentication secret (base64url). */
  @Column({ type: 'varchar', length: 50 })
  auth!: string;

  @Column()
  createdAt!: Date;
}
