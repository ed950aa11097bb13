import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../database/errors';
import { sqliteParameter } from '../../database/sqlite-integer';
import { placeholder } from '../../database/statements';
import { tablePath } from '../../database/table-path';
import type { UnitOfWork } from '../../database/unit-of-work';
import { BlobMissingError, type BlobStore } from './blob-store';
import { verified } from './verified-bytes';

/** Bytes per row of attachment_chunks; a file's last chunk holds the rest (an empty file has one empty chunk). */
export const CHUNK_BYTES = 256 * 1024;
/** Names per DELETE: well within both databases' limits on bound parameters. */
const DELETE_BATCH = 500;

/**
 * Attachments' bytes in the database (attachment_chunks, 256 KiB a row), so
 * that instances share them with no shared disk. A put is one transaction
 * that lasts as long as reading the file: on SQLite, the process's other
 * transactions wait for it.
 */
export class DatabaseBlobStore implements BlobStore {
  private readonly db: DataSource;
  private readonly uow: Pick<UnitOfWork<unknown>, 'transaction'>;

  /** `uow` runs the put's transaction: on SQLite a bare `db.transaction` would nest inside whichever transaction is running. */
  constructor(deps: { db: DataSource; uow: Pick<UnitOfWork<unknown>, 'transaction'> }) {
    this.db = deps.db;
    this.uow = deps.uow;
  }

  async put(sha256: string, path: string, size: number): Promise<void> {
    const lastSeq = Math.max(0, Math.ceil(size / CHUNK_BYTES) - 1);
    const stored = await this.db.query(`SELECT 1 AS "found" FROM ${this.table} WHERE "sha256" = ${this.p(1)} AND "seq" = ${this.p(2)}`, [sha256, this.int(lastSeq)]);
    if (stored.length) return;
    const insert = `INSERT INTO ${this.table} ("sha256", "seq", "data") VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)})`;
    try {
      await this.uow.transaction(async (m) => {
        let seq = 0;
        for await (const chunk of verified(fileChunks(path), sha256, size)) await m.query(insert, [sha256, this.int(seq++), chunk]);
      });
    } catch (error) {
      // Another put of the same name committed first, and it too checked the bytes against the name.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  /** Reads the next chunk when the consumer wants more; the stream fails with BlobMissingError if the contents are deleted while it reads. */
  async get(sha256: string): Promise<Readable> {
    const [{ last }] = await this.db.query(`SELECT MAX("seq") AS "last" FROM ${this.table} WHERE "sha256" = ${this.p(1)}`, [sha256]);
    if (last === null) throw new BlobMissingError(sha256);
    return Readable.from(this.chunks(sha256, Number(last)), { objectMode: false });
  }

  async delete(sha256s: readonly string[]): Promise<void> {
    for (let i = 0; i < sha256s.length; i += DELETE_BATCH) {
      const batch = sha256s.slice(i, i + DELETE_BATCH);
      await this.db.query(`DELETE FROM ${this.table} WHERE "sha256" IN (${batch.map((_, j) => this.p(j + 1)).join(', ')})`, batch);
    }
  }

  private async *chunks(sha256: string, last: number): AsyncGenerator<Buffer> {
    const select = `SELECT "data" FROM ${this.table} WHERE "sha256" = ${this.p(1)} AND "seq" = ${this.p(2)}`;
    for (let seq = 0; seq <= last; seq++) {
      const [row] = await this.db.query(select, [sha256, this.int(seq)]);
      if (!row) throw new BlobMissingError(sha256);
      yield row.data;
    }
  }

  private get table(): string {
    return tablePath(this.db.manager, 'attachment_chunks');
  }

  private p(n: number): string {
    return placeholder(this.db, n);
  }

  private int(n: number): unknown {
    return this.db.options.type === 'postgres' ? n : sqliteParameter(n);
  }
}

/** The file's bytes in chunks of CHUNK_BYTES, read one at a time (an empty file: one empty chunk). */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    for (let seq = 0; ; seq++) {
      const chunk = await readUpTo(file, CHUNK_BYTES);
      if (chunk.length || seq === 0) yield chunk;
      if (chunk.length < CHUNK_BYTES) return;
    }
  } finally {
    await file.close();
  }
}

async function readUpTo(file: Awaited<ReturnType<typeof open>>, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, null);
    if (!bytesRead) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
