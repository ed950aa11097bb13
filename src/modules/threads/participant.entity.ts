import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { derivedId } from '../../common/ids';

/** A current participant. Leaving deletes the row; the audit trail keeps the history. */
@ObjectType()
@Entity('participants')
@Index('IDX_participants_user', ['userId'])
export class Participant {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  threadId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  userId!: string;

  @Field(() => ID, { description: 'The same for the same thread and user, in every query and live payload.' })
  get id(): string {
    return derivedId('Participant', this.threadId, this.userId);
  }

  @Field()
  @Column()
  joinedAt!: Date;

  /** Null for the thread's creator. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  addedById!: string | null;

  /** The auto-CC team through which this participant was added. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  viaTeamId!: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ nullable: true, type: Date })
  lastReadAt!: Date | null;

  /** Messages with seq up to this one count as read; exact where timestamps could tie. */
  @Column({ type: 'integer' })
  lastReadSeq!: number;
}
