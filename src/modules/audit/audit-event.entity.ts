import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { AuditAction } from './audit-action';

/** Append-only: written by AuditService.record and never updated or deleted. */
@ObjectType()
@Entity('audit_events')
@Index('IDX_audit_events_thread', ['threadId'])
export class AuditEvent {
  @Field(() => ID)
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Field()
  @Column()
  at!: Date;

  @Column({ type: 'varchar', length: 36 })
  actorId!: string;

  @Field(() => String, {
    description:
      'e.g. THREAD_CREATED, MESSAGE_SENT, THREAD_READ, PARTICIPANT_ADDED, PARTICIPANT_LEFT, TEAM_AUTO_CC_CHANGED',
  })
  @Column({ type: 'varchar', length: 40 })
  action!: AuditAction;

  @Field(() => ID, { nullable: true })
  @Column({ type: 'varchar', length: 36, nullable: true })
  threadId!: string | null;

  @Field(() => ID, { nullable: true })
  @Column({ type: 'varchar', length: 36, nullable: true })
  messageId!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  subjectUserId!: string | null;

  /** The patient whose data the event concerns, when there is one. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  patientId!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  teamId!: string | null;
}
