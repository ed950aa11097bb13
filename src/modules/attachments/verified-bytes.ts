import { createHash } from 'node:crypto';

/**
 * Passes the bytes through; throws as soon as there are more than `size`, or
 * at the end unless they are the `size` bytes of `sha256`: a store never
 * keeps under a name what the name does not say.
 */
export async function* verified(source: AsyncIterable<Buffer>, sha256: string, size: number): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let total = 0;
  for await (const piece of source) {
    total += piece.length;
    if (total > size) break;
    hash.update(piece);
    yield piece;
  }
  if (total !== size || hash.digest('hex') !== sha256) throw new Error(`the file is not the ${size} bytes of ${sha256}`);
}
