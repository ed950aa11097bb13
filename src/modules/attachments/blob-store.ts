import type { Readable } from 'node:stream';

/**
 * Where attachments' bytes live, named by their SHA-256 (lowercase hex) and
 * written once. Which contents exist, and when they may go, is recorded in
 * the database (AttachmentContent), whatever the store; a store keeps bytes only.
 * docs/attachments.md says what an object store (S3) adapter would need.
 */
export interface BlobStore {
  /**
   * Stores the `size` bytes of the file at `path`, whose SHA-256 is `sha256`,
   * unless they are stored already. Once it resolves, every instance reads
   * them; a put that fails midway leaves nothing readable under the name.
   */
  put(sha256: string, path: string, size: number): Promise<void>;
  /** The stored bytes as a stream that reads a piece at a time; rejects with BlobMissingError if nothing is stored under the name. */
  get(sha256: string): Promise<Readable>;
  /** Removes the bytes stored under each name; a name with nothing stored is skipped. */
  delete(sha256s: readonly string[]): Promise<void>;
}

export class BlobMissingError extends Error {
  constructor(sha256: string) {
    super(`no stored contents ${sha256}`);
    this.name = 'BlobMissingError';
  }
}
