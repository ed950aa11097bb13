import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One uploaded file: its owner's until sent with a message, then the
 * message's, seen by whoever may see that message. An upload never attached
 * is removed after a day.
 */
@Entity('attachments')
@Index('IDX_attachments_owner_created', ['ownerId', 'createdAt'])
@Index('IDX_attachments_message', ['messageId'])
@Index('IDX_attachments_sha256', ['sha256'])
@Index('IDX_attachments_unattached', ['createdAt'], { where: '"messageId" IS NULL' })
export class Attachment {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Who uploaded it: the only one who may attach it. */
  @Column({ type: 'varchar', length: 36 })
  ownerId!: string;

  /** The stored contents (AttachmentContent). */
  @Column({ type: 'varchar', length: 64 })
  sha256!: string;

  /** The file name the uploader gave, cleaned (attachment-limits.ts); never used to decide the type. */
  @Column({ type: 'varchar', length: 255 })
  name!: string;

  /** Decided by the contents: one of the allowed types. */
  @Column({ type: 'varchar', length: 64 })
  contentType!: string;

  /** Bytes stored: for an image, after it was re-encoded. */
  @Column({ type: 'integer' })
  size!: number;

  @Column({ type: 'integer', nullable: true })
  width!: number | null;

  @Column({ type: 'integer', nullable: true })
  height!: number | null;

  /** For an image: a small WebP of it, base64. */
  @Column({ type: 'text', nullable: true })
  thumbnail!: string | null;

  @Column()
  createdAt!: Date;

  @Column({ type: 'varchar', length: 36, nullable: true })
  threadId!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  messageId!: string | null;

  /** Its place among the message's attachments, from 0. */
  @Column({ type: 'integer', nullable: true })
  position!: number | null;
}
