import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A published event, written by the transaction that made the change (the
 * transactional outbox): it is sent once that commits, and by the relay of
 * any instance while it is still unpublished. Published rows are kept a
 * while (OUTBOX_KEEP_MS), so an instance whose Redis link was down can
 * deliver what it missed.
 */
@Entity('outbox_events')
@Index('IDX_outbox_events_created', ['createdAt'])
@Index('IDX_outbox_events_unpublished', ['publishedAt', 'createdAt'])
export class OutboxEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 40 })
  topic!: string;

  /** The event's payload as JSON. */
  @Column({ type: 'text' })
  payload!: string;

  @Column()
  createdAt!: Date;

  /** When Redis took it (or the write, without Redis); null while it waits for the relay. */
  @Column({ type: Date, nullable: true })
  publishedAt!: Date | null;
}
