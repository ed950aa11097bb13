import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@ObjectType()
@Entity('threads')
export class Thread {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field()
  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  @Field()
  @Column()
  createdAt!: Date;

  @Column({ type: 'varchar', length: 36 })
  createdById!: string;

  @Field({
    description:
      'When the thread began, or its newest message that every participant sees (a staff note does not count): `threads` lists the newest first. ' +
      'A client sorts by it to keep the server\'s order. Reading it is no THREAD_READ.',
  })
  @Index('IDX_threads_last_activity')
  @Column()
  lastActivityAt!: Date;

  /** Time of the newest message, staff-only notes included: the next message is never earlier (messages/next-message.ts). */
  @Column({ type: Date, nullable: true })
  lastMessageAt!: Date | null;

  /** The oldest patient message not yet followed by a professional's reply; null when nobody waits. Kept by each message's numbering (messages/next-message.ts). */
  @Index('IDX_threads_waiting_since')
  @Column({ type: Date, nullable: true })
  waitingSince!: Date | null;

  /** Sequence number of the newest message; messages are numbered 1, 2, 3... per thread. */
  @Column({ type: 'integer' })
  lastSeq!: number;
}
