import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One link of an organisation's own audit chain: its `orgSeq`-th event, the
 * event's place in the whole chain (`chainSeq`), and `hash`, chained onto the
 * link before it over the event's hash (audit-chain.ts organisationLinkHash).
 * Written by the sealer after it seals the event, one per organisation the
 * event concerns; append-only like the events (database triggers). The
 * organisation's signed checkpoints name its head, so it can verify its own
 * log without anyone else's events.
 */
@Entity('audit_organisation_links')
@Index('IDX_audit_organisation_links_chain_seq', ['chainSeq'])
@Index('UQ_audit_organisation_links_event', ['eventId', 'organisationId'], { unique: true })
export class AuditOrganisationLink {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  organisationId!: string;

  @PrimaryColumn({ type: 'integer' })
  orgSeq!: number;

  @Column({ type: 'integer' })
  eventId!: number;

  @Column({ type: 'integer' })
  chainSeq!: number;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
