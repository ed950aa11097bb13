import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A signed head of the audit chain, written by the sealer (audit-sealer.ts):
 * the chain had `chainSeq` events, the last of them hashed `headHash`, at `at`.
 * With `organisationId`, the head of that organisation's own chain
 * (audit_organisation_links): `chainSeq` is then its number of links.
 * Append-only like the events (database triggers). See audit-checkpoint.ts for
 * what is signed.
 */
@Entity('audit_checkpoints')
@Index('IDX_audit_checkpoints_seq', ['chainSeq'])
@Index('IDX_audit_checkpoints_organisation', ['organisationId', 'chainSeq'])
export class AuditCheckpoint {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  /** Null for a checkpoint of the whole chain. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  organisationId!: string | null;

  @Column({ type: 'integer' })
  chainSeq!: number;

  @Column({ type: 'varchar', length: 64 })
  headHash!: string;

  @Column()
  at!: Date;

  /** Which key signed it: the first 16 bytes (hex) of the SHA-256 of its public key (SPKI DER). */
  @Column({ type: 'varchar', length: 64 })
  keyId!: string;

  /** Ed25519 over the checkpoint's signed text, base64. */
  @Column({ type: 'varchar', length: 200 })
  signature!: string;
}
