import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Stored contents, named by their SHA-256 and written once: identical files
 * share them. Their bytes are the blob store's (the database's chunks or a
 * directory's files). Removed once no attachment names them and nothing has
 * touched them for an hour.
 */
@Entity('attachment_contents')
@Index('IDX_attachment_contents_touched', ['touchedAt'])
export class AttachmentContent {
  /** Lowercase hex. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sha256!: string;

  @Column({ type: 'integer' })
  size!: number;

  /** Last claimed by an upload: contents claimed within the hour are never removed, so an upload may count on them. */
  @Column()
  touchedAt!: Date;
}
