import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../src/data-source';
import { migrate } from '../src/database/migrate';
import { tablePath } from '../src/database/table-path';
import { createUnitOfWork } from '../src/database/unit-of-work';
import { BlobMissingError, type BlobStore } from '../src/modules/attachments/blob-store';
import { CHUNK_BYTES, DatabaseBlobStore } from '../src/modules/attachments/database-blob-store';
import { DirectoryBlobStore } from '../src/modules/attachments/directory-blob-store';
import { Team } from '../src/modules/teams/team.entity';
import { Thread } from '../src/modules/threads/thread.entity';
import { sharedDatabase, type SharedDatabase } from './support/shared-database';

// Both blob stores keep the same contract (src/modules/attachments/blob-store.ts).
// The database store runs on the lane's database: SQLite, or PostgreSQL with
// TEST_DATABASE_URL (npm run test:pg).

interface Subject {
  store: BlobStore;
  /** Every byte the store holds, half-written copies included. */
  storedBytes(): Promise<number>;
  close(): Promise<void>;
}

interface Database extends Subject {
  db: DataSource;
}

async function databaseStore(): Promise<Database> {
  const database: SharedDatabase = sharedDatabase('blobs');
  const db = createDataSource(database.config);
  await db.initialize();
  await migrate(db);
  const uow = createUnitOfWork(db, { teams: Team, threads: Thread });
  return {
    db,
    store: new DatabaseBlobStore({ db, uow }),
    storedBytes: async () => {
      const [{ bytes }] = await db.query(`SELECT COALESCE(SUM(LENGTH("data")), 0) AS "bytes" FROM ${tablePath(db.manager, 'attachment_chunks')}`);
      return Number(bytes);
    },
    close: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}

function directoryStore(root = join(mkdtempSync(join(tmpdir(), 'carethread-blobs-')), 'store')): Subject & { root: string } {
  return {
    root,
    store: new DirectoryBlobStore(root),
    storedBytes: async () =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .map((name) => statSync(join(root, name)))
        .reduce((sum, stat) => sum + (stat.isFile() ? stat.size : 0), 0),
    close: async () => rmSync(join(root, '..'), { recursive: true, force: true }),
  };
}

const STORES: [string, () => Promise<Subject>][] = [
  ['database', databaseStore],
  ['directory', async () => directoryStore()],
];

let inputs: string;
beforeAll(() => {
  inputs = mkdtempSync(join(tmpdir(), 'carethread-blob-inputs-'));
});
afterAll(() => rmSync(inputs, { recursive: true, force: true }));

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A file of `size` random bytes, with the name and size a put takes. */
function randomFile(size: number): { path: string; bytes: Buffer; sha256: string; size: number } {
  const bytes = randomBytes(size);
  const path = join(inputs, randomBytes(8).toString('hex'));
  writeFileSync(path, bytes);
  return { path, bytes, sha256: sha256Of(bytes), size };
}

async function pieces(stream: Readable): Promise<Buffer[]> {
  const read: Buffer[] = [];
  for await (const piece of stream) read.push(piece);
  return read;
}

const contents = async (store: BlobStore, sha256: string) => Buffer.concat(await pieces(await store.get(sha256)));

describe.each(STORES)('the %s store', (_kind, open) => {
  let subject: Subject;
  let store: BlobStore;
  beforeAll(async () => {
    subject = await open();
    store = subject.store;
  });
  afterAll(() => subject?.close());

  test('gives back the bytes put, over several chunks, a piece at a time', async () => {
    const file = randomFile(4 * CHUNK_BYTES + 1000);
    await store.put(file.sha256, file.path, file.size);
    const read = await pieces(await store.get(file.sha256));
    expect(Buffer.concat(read).equals(file.bytes)).toBe(true);
    expect(read.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...read.map((piece) => piece.length))).toBeLessThanOrEqual(CHUNK_BYTES);
  });

  test('gives back a file of exactly one chunk', async () => {
    const file = randomFile(CHUNK_BYTES);
    await store.put(file.sha256, file.path, file.size);
    expect((await contents(store, file.sha256)).equals(file.bytes)).toBe(true);
  });

  test('a second put of stored contents does nothing, not even read the file', async () => {
    const file = randomFile(CHUNK_BYTES + 10);
    const before = await subject.storedBytes();
    await store.put(file.sha256, file.path, file.size);
    rmSync(file.path);
    await store.put(file.sha256, file.path, file.size);
    expect(await subject.storedBytes()).toBe(before + file.size);
    expect((await contents(store, file.sha256)).equals(file.bytes)).toBe(true);
  });

  test('two puts of the same contents at once both succeed, and the bytes are stored once', async () => {
    const file = randomFile(3 * CHUNK_BYTES + 5);
    const before = await subject.storedBytes();
    await Promise.all([store.put(file.sha256, file.path, file.size), store.put(file.sha256, file.path, file.size)]);
    expect(await subject.storedBytes()).toBe(before + file.size);
    expect((await contents(store, file.sha256)).equals(file.bytes)).toBe(true);
  });

  test.each([
    ['a hash of other bytes', (f: { sha256: string; size: number }) => ({ sha256: sha256Of(Buffer.from('other')), size: f.size })],
    ['a size one byte short', (f: { sha256: string; size: number }) => ({ sha256: f.sha256, size: f.size - 1 })],
    ['a size one byte over', (f: { sha256: string; size: number }) => ({ sha256: f.sha256, size: f.size + 1 })],
  ])('a put of a file that does not match (%s) fails and stores nothing', async (_case, claim) => {
    const file = randomFile(2 * CHUNK_BYTES + 7);
    const { sha256, size } = claim(file);
    const before = await subject.storedBytes();
    await expect(store.put(sha256, file.path, size)).rejects.toThrow(/is not the/);
    await expect(store.get(sha256)).rejects.toBeInstanceOf(BlobMissingError);
    expect(await subject.storedBytes()).toBe(before);
  });

  test('get of a name with nothing stored fails with BlobMissingError', async () => {
    await expect(store.get(sha256Of(randomBytes(16)))).rejects.toBeInstanceOf(BlobMissingError);
  });

  test('delete removes each named contents, and skips names with nothing stored', async () => {
    const [a, b, kept] = [randomFile(10), randomFile(CHUNK_BYTES + 1), randomFile(20)];
    for (const file of [a, b, kept]) await store.put(file.sha256, file.path, file.size);
    await store.delete([a.sha256, sha256Of(randomBytes(16)), b.sha256]);
    await store.delete([]);
    await expect(store.get(a.sha256)).rejects.toBeInstanceOf(BlobMissingError);
    await expect(store.get(b.sha256)).rejects.toBeInstanceOf(BlobMissingError);
    expect((await contents(store, kept.sha256)).equals(kept.bytes)).toBe(true);
    await store.put(a.sha256, a.path, a.size);
    expect((await contents(store, a.sha256)).equals(a.bytes)).toBe(true);
  });
});

describe('the database store, alone', () => {
  let subject: Database;
  beforeAll(async () => {
    subject = await databaseStore();
  });
  afterAll(() => subject?.close());

  test('a stream gives one chunk a read, fetched only when wanted: contents deleted meanwhile fail it rather than end it short', async () => {
    const file = randomFile(4 * CHUNK_BYTES + 1000);
    await subject.store.put(file.sha256, file.path, file.size);
    expect((await pieces(await subject.store.get(file.sha256))).map((piece) => piece.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 1000]);

    const reading = (await subject.store.get(file.sha256))[Symbol.asyncIterator]();
    expect((await reading.next()).value).toHaveLength(CHUNK_BYTES);
    await subject.store.delete([file.sha256]);
    // The second chunk may have been fetched already; the third cannot have been.
    await expect((async () => {
      while (!(await reading.next()).done);
    })()).rejects.toBeInstanceOf(BlobMissingError);
  });
});

describe('the directory store, alone', () => {
  let subject: ReturnType<typeof directoryStore>;
  beforeAll(() => {
    subject = directoryStore();
  });
  afterAll(() => subject?.close());

  test('keeps contents under root, by the first two hex digits', async () => {
    const file = randomFile(100);
    await subject.store.put(file.sha256, file.path, file.size);
    expect(readdirSync(subject.root, { recursive: true, encoding: 'utf8' }).sort()).toEqual([file.sha256.slice(0, 2), join(file.sha256.slice(0, 2), file.sha256)]);
  });

  test.each(['../etc/passwd', `../${'a'.repeat(61)}`, 'A'.repeat(64), 'a'.repeat(63), ''])('refuses the name %j in every method', async (name) => {
    const file = randomFile(10);
    for (const call of [() => subject.store.put(name, file.path, file.size), () => subject.store.get(name), () => subject.store.delete([name])]) {
      const error = await call().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(BlobMissingError);
      expect((error as Error).message).toMatch(/not a blob name/);
    }
  });
});
