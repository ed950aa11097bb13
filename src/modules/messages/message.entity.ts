import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import type { AttachmentData } from '../../events/event-bus';

@ObjectType()
@Entity('messages')
@Unique('UQ_messages_thread_seq', ['threadId', 'seq'])
@Unique('UQ_messages_client_id', ['threadId', 'authorId', 'clientMessageId'])
export class Message {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field(() => ID)
  @Column({ type: 'varchar', length: 36 })
  threadId!: string;

  /** Gap-free position in the thread, from 1; the message cursor. */
  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'varchar', length: 36 })
  authorId!: string;

  @Field()
  @Column({ type: 'text' })
  body!: string;

  @Field()
  @Column()
  createdAt!: Date;

  /** A note among the professionals of the thread: patients never see it, in any form. */
  @Field({ description: 'A note among the professionals in the thread; never shown to patients.' })
  @Column({ type: 'boolean', default: false })
  staffOnly!: boolean;

  /** When a professional other than the author first marked the thread read past this message (readByCareTeamAt, for its author). */
  @Column({ type: Date, nullable: true })
  readByCareTeamAt!: Date | null;

  /** The sender's retry key; unique per author and thread. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  clientMessageId!: string | null;

  /** Its files, when the message came with them (sent, or live); otherwise Message.attachments loads them. */
  attachments?: AttachmentData[];
}
