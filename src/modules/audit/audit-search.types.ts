import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { PageInfo } from '../../common/pagination';
import { AuditEvent, AuditOutcome, AuditRole } from './audit-event.entity';

@InputType({ description: 'Every field given must match; times are inclusive.' })
export class AuditEventFilter {
  @Field(() => ID, { nullable: true })
  actorId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Events concerning this patient.' })
  patientId?: string | null;

  @Field(() => ID, { nullable: true })
  threadId?: string | null;

  @Field(() => String, { nullable: true, description: 'An audit action code, e.g. THREAD_READ.' })
  action?: string | null;

  @Field(() => AuditOutcome, { nullable: true })
  outcome?: AuditOutcome | null;

  @Field(() => Date, { nullable: true })
  from?: Date | null;

  @Field(() => Date, { nullable: true })
  to?: Date | null;
}

@ObjectType()
export class AuditEventEdge {
  @Field()
  cursor!: string;

  @Field(() => AuditEvent)
  node!: AuditEvent;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges!: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: "Someone who saw a patient's threads or messages, and when." })
export class AccessLogEntry {
  @Field()
  at!: Date;

  @Field({ description: 'THREAD_READ, MESSAGE_DELIVERED (pushed to them live), ATTACHMENT_READ (downloaded a file of a message: messageId), AUDIT_TRAIL_READ, or NOTIFICATION_SENT (notified: told that a message waits, without its content).' })
  action!: string;

  @Field(() => AuditOutcome, { description: 'DENIED: they tried and were refused; they saw nothing.' })
  outcome!: AuditOutcome;

  /** Resolved to `who`. */
  userId!: string;

  @Field(() => AuditRole, { nullable: true, description: 'Their role then; null when they had left the thread.' })
  role!: AuditRole | null;

  /** Resolved to `team`. */
  teamId!: string | null;

  @Field(() => ID, { nullable: true })
  threadId!: string | null;

  @Field(() => ID, { nullable: true })
  messageId!: string | null;

  /** Position in the log, for the cursor. */
  eventId!: number;
  recipientIndex!: number;
}

@ObjectType()
export class AccessLogEdge {
  @Field()
  cursor!: string;

  @Field(() => AccessLogEntry)
  node!: AccessLogEntry;
}

@ObjectType()
export class AccessLogConnection {
  @Field(() => [AccessLogEdge])
  edges!: AccessLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
