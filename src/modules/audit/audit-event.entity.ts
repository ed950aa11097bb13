import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, type ValueTransformer } from 'typeorm';
import { AuditAction } from './audit-action';

/** Who the actor was when they acted. */
export enum AuditRole {
  PATIENT = 'PATIENT',
  PROFESSIONAL = 'PROFESSIONAL',
  ADMIN = 'ADMIN',
}

export enum AuditOutcome {
  SUCCESS = 'SUCCESS',
  /** Refused (NOT_FOUND or FORBIDDEN); `reason` says why. Nothing changed and nothing was shown. */
  DENIED = 'DENIED',
}

registerEnumType(AuditRole, { name: 'AuditRole' });
registerEnumType(AuditOutcome, { name: 'AuditOutcome' });

/** An unsealed event's hashes: stored as '' (the columns are NOT NULL), null in code. */
const UNSEALED: ValueTransformer = {
  to: (value: string | null | undefined) => value ?? '',
  from: (value: string) => value || null,
};

/**
 * Append-only: inserted by the audit writer, never deleted, and updated only
 * once, by the sealer, which sets chainSeq and the hashes of a row still
 * without them (database triggers refuse anything else). Each sealed event is
 * a link of a SHA-256 hash chain, see audit-chain.ts.
 */
@ObjectType()
@Entity('audit_events')
@Index('IDX_audit_events_thread', ['threadId'])
@Index('IDX_audit_events_actor', ['actorId'])
@Index('IDX_audit_events_organisation', ['organisationId', 'id'])
@Index('UQ_audit_events_chain_seq', ['chainSeq'], { unique: true })
export class AuditEvent {
  @Field(() => ID)
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Field({ description: 'Server time (UTC) of the event.' })
  @Column()
  at!: Date;

  @Column({ type: 'varchar', length: 36 })
  actorId!: string;

  @Field(() => AuditRole, { description: "The actor's role when they acted." })
  @Column({ type: 'varchar', length: 16 })
  actorRole!: AuditRole;

  /** The team through which the actor took part in the thread, if any (the field `actorTeam`). */
  @Column({ type: 'varchar', length: 36, nullable: true })
  actorTeamId!: string | null;

  @Field(() => String, {
    description:
      'e.g. THREAD_CREATED, MESSAGE_SENT, THREAD_READ, PARTICIPANT_ADDED, PARTICIPANT_LEFT, TEAM_AUTO_CC_CHANGED',
  })
  @Column({ type: 'varchar', length: 40 })
  action!: AuditAction;

  @Field(() => AuditOutcome)
  @Column({ type: 'varchar', length: 16 })
  outcome!: AuditOutcome;

  @Field(() => String, { nullable: true, description: 'Why an attempt was denied: the error code and message it got.' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  reason!: string | null;

  @Field(() => ID, { nullable: true })
  @Column({ type: 'varchar', length: 36, nullable: true })
  threadId!: string | null;

  @Field(() => ID, { nullable: true })
  @Column({ type: 'varchar', length: 36, nullable: true })
  messageId!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  subjectUserId!: string | null;

  /** The patient a care-network event concerns (RECORD_SHARED); `patients` lists every patient an event concerns. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  patientId!: string | null;

  /** The team the event is about: TEAM_* actions, sharing with a team (the field `team`). */
  @Column({ type: 'varchar', length: 36, nullable: true })
  teamId!: string | null;

  /** MESSAGE_DELIVERED: who the message was pushed to live, as JSON (DeliveryRecipient[], by id). */
  @Column({ type: 'text', nullable: true })
  recipients!: string | null;

  @Field(() => String, { nullable: true, description: 'NOTIFICATION_SENT: the channel it went by (EMAIL, PUSH); null for every other action.' })
  @Column({ type: 'varchar', length: 16, nullable: true })
  channel!: string | null;

  /** The request that caused it (the X-Request-Id response header). This and the three below reach admins only. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  requestId!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  userAgent!: string | null;

  /** The server instance that wrote it. */
  @Column({ type: 'varchar', length: 100 })
  instanceId!: string;

  /**
   * The first (by id) of the organisations the event concerns, whose admins may search it; any others are
   * rows of `audit_event_organisations`. Null for events from before organisations: the first organisation's.
   */
  @Column({ type: 'varchar', length: 36, nullable: true })
  organisationId!: string | null;

  /** The event's place in the chain, given by the sealer (audit-sealer.ts) shortly after its commit; null until then. */
  @Column({ type: 'integer', nullable: true })
  chainSeq!: number | null;

  /** The hash of the event before this one in the chain (64 zeros for the first); null until sealed. */
  @Column({ type: 'varchar', length: 64, transformer: UNSEALED })
  prevHash!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "SHA-256 over the previous event's hash and this event's content (hex); null until the event is sealed, within a second or so of its commit.",
  })
  @Column({ type: 'varchar', length: 64, transformer: UNSEALED })
  hash!: string | null;
}

/** The organisations an event concerns beyond its own `organisationId` (the first of them): one row per organisation. */
@Entity('audit_event_organisations')
@Index('IDX_audit_event_organisations_organisation', ['organisationId', 'eventId'])
export class AuditEventOrganisation {
  @PrimaryColumn({ type: 'integer' })
  eventId!: number;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  organisationId!: string;
}

/** The patients whose data an event concerns: one row per patient, for the access log and search. */
@Entity('audit_event_patients')
@Index('IDX_audit_event_patients_patient', ['patientId', 'eventId'])
export class AuditEventPatient {
  @PrimaryColumn({ type: 'integer' })
  eventId!: number;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  patientId!: string;
}
