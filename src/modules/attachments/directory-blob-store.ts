import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { access, mkdir, open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobMissingError, type BlobStore } from './blob-store';
import { verified } from './verified-bytes';

const NAME = /^[0-9a-f]{64}$/;

/**
 * Attachments' bytes as files under `root` (`<root>/ab/ab12…`), for one
 * instance or instances sharing a disk. A file appears whole, by rename, or
 * not at all; copies half-written when a process died stay as `.partial-*`
 * in `root`, safe to remove.
 */
export class DirectoryBlobStore implements BlobStore {
  /** Creates `root` if missing. Every method throws a plain Error for a name that is not 64 lowercase hex digits. */
  constructor(private readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  async put(sha256: string, path: string, size: number): Promise<void> {
    const target = this.pathOf(sha256);
    if (await exists(target)) return;
    await mkdir(dirname(target), { recursive: true });
    // In root, so that the rename stays on one file system.
    const partial = join(this.root, `.partial-${randomUUID()}`);
    try {
      const out = await open(partial, 'wx');
      try {
        await writeFile(out, verified(createReadStream(path), sha256, size));
        await out.sync();
      } finally {
        await out.close();
      }
      // Replaces atomically whatever a concurrent put of the same name renamed there: the same bytes.
      await rename(partial, target);
      // The rename itself is durable only once its directory is: the database will say the contents exist.
      await syncDirectory(dirname(target));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async get(sha256: string): Promise<Readable> {
    try {
      return (await open(this.pathOf(sha256), 'r')).createReadStream();
    } catch (error) {
      if (isMissing(error)) throw new BlobMissingError(sha256);
      throw error;
    }
  }

  async delete(sha256s: readonly string[]): Promise<void> {
    const paths = sha256s.map((sha256) => this.pathOf(sha256));
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
  }

  private pathOf(sha256: string): string {
    if (!NAME.test(sha256)) throw new Error(`not a blob name (64 lowercase hex digits): ${JSON.stringify(sha256.slice(0, 80))}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
