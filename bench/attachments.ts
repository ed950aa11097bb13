/**
 * `npm run bench -- attachments`: uploads and downloads of a 5 MB file
 * through CareThread (POST /attachments, GET /attachments/<id>), next to the
 * bare node:http server of bench/bare-files.ts streaming the same bytes to
 * and from disk, driven by the same client code (bench/attachment-api.ts),
 * in the same run. Both servers are child processes, measured from /proc.
 *
 * The file is a PDF: CareThread re-encodes an image with sharp, so a photo
 * measures libvips more than the upload path; a PDF is checked (pdf-lib) and
 * stored as it came. A 12 MP JPEG of about 5 MB, the common case, is a case
 * of its own (BENCH_ATTACHMENT_CASES, default `pdf,jpeg`; `pdf-pg` is the PDF
 * on PostgreSQL, BENCH_PG_URL, in a schema of its own dropped after).
 *
 * Each repetition starts both servers afresh (CareThread on SQLite in a
 * temporary folder, files in the database as by default), warms each up with
 * WARM_UP uploads and downloads, then: BENCH_UPLOADS (10) uploads one after
 * another, then their downloads, timed one by one (the median), with the
 * server's CPU per request; then memory: for 1, 5 and 20 uploads at once
 * (BENCH_UPLOADS_AT_ONCE), the server's peak RSS (VmHWM, reset before) over
 * its RSS after a full GC just before. 'Flat': the growth at 20 at once about
 * that at 5, not four times it. Every upload's bytes differ from the others'
 * (CareThread stores contents once per SHA-256).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import ts from 'typescript';
import { ADMIN, PASSWORD, createUser, login } from './api';
import { download, upload, type Stored } from './attachment-api';
import { jpegOfSize, pdfOfSize, type BenchFile } from './attachment-files';
import { MEASURED, startCareThread, startCareThreadWith, startProcess, type ServerProcess } from './child-process';
import { watchProcess, type ProcessWatch } from './process-watch';
import { REPEAT, median, medians, ratio, table } from './stats';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 10);
const AT_ONCE = (process.env.BENCH_UPLOADS_AT_ONCE ?? '1,5,20').split(',').map(Number);
const CASES = (process.env.BENCH_ATTACHMENT_CASES ?? 'pdf,jpeg').split(',');
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WARM_UP = 3;
/** Far above what a repetition uploads: the daily allowance (100 MiB by default) is not what is measured. */
const DAILY_BYTES = String(1024 ** 4);
const MB = 1024 * 1024;
const ROOT = join(__dirname, '..');

interface Target extends ServerProcess {
  token: string;
  watch: ProcessWatch;
}

type Figures = Record<string, number>;

/**
 * bench/bare-files.ts as a child process, with the measured servers' preload (a
 * full GC and a memory line on SIGUSR2). Transpiled here and run as plain
 * JavaScript: ts-node would hold the TypeScript compiler in its memory, some
 * 60 MB beside a server of a few.
 */
async function startBareFiles(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-bare-files-'));
  const source = readFileSync(join(ROOT, 'bench/bare-files.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  // `-e` resolves busboy from the working directory, the project's.
  const server = await startProcess([...MEASURED, '-e', outputText], { BARE_FILES_DIR: dir }, (line) => line.url, () => rmSync(dir, { recursive: true, force: true }));
  return { ...server, token: 'none', watch: watchProcess(server.pid) };
}

/**
 * CareThread on SQLite (or PostgreSQL for `pdf-pg`), and a professional signed
 * in to it. Its uploads' temporary folders go to a TMPDIR of its own, removed
 * once it stopped; one left there (an upload's cleanup did not run) is said on stderr.
 */
async function startCareThreadTarget(onPostgres: boolean): Promise<Target> {
  const temporary = mkdtempSync(join(tmpdir(), 'carethread-bench-tmp-'));
  const settings = { ATTACHMENT_DAILY_BYTES: DAILY_BYTES, TMPDIR: temporary };
  const schema = `bench_files_${randomBytes(4).toString('hex')}`;
  const cleanUp = async () => {
    const left = readdirSync(temporary).length;
    if (left) process.stderr.write(`CareThread left ${left} upload folders in its TMPDIR when it stopped\n`);
    rmSync(temporary, { recursive: true, force: true });
    if (!onPostgres) return;
    const pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  };
  const server = await (onPostgres ? startCareThreadWith({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, ...settings }) : startCareThread(settings)).catch(
    async (error: unknown) => {
      await cleanUp();
      throw error;
    },
  );
  const stop = async () => (await server.stop(), await cleanUp());
  try {
    const admin = await login(server.url, ADMIN.email, ADMIN.password);
    await createUser(server.url, admin, 'uploader@bench.example', 'PROFESSIONAL', 'Uploader');
    return { ...server, token: await login(server.url, 'uploader@bench.example', PASSWORD), watch: watchProcess(server.pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Each variant once, kept: both servers, and every repetition (each on fresh servers), upload the same bytes. */
function variants(file: BenchFile) {
  const made = new Map<number, Promise<Uint8Array>>();
  return (i: number) => made.get(i) ?? (made.set(i, file.variant(i)), made.get(i)!);
}

/** Uploads `bytes`; a PDF must be stored as it came. */
async function put(target: Target, file: BenchFile, bytes: Uint8Array): Promise<Stored> {
  const stored = await upload(target.url, target.token, bytes, file);
  if (file.storedAsSent && stored.size !== bytes.length) throw new Error(`stored ${stored.size} bytes of ${bytes.length}`);
  return stored;
}

/** One repetition on one server: warm-up, timed uploads and downloads one after another, then the memory of uploads at once. */
async function measure(target: Target, file: BenchFile, variant: (i: number) => Promise<Uint8Array>): Promise<Figures> {
  let next = 0;
  for (let i = 0; i < WARM_UP; i++) {
    await download(target.url, target.token, await put(target, file, await variant(next++)));
  }
  const files = await Promise.all(Array.from({ length: UPLOADS }, () => variant(next++)));
  const timed = async <T>(work: (i: number) => Promise<T>) => {
    const ms: number[] = [];
    const results: T[] = [];
    const cpu0 = target.cpuSeconds();
    for (let i = 0; i < UPLOADS; i++) {
      const t0 = performance.now();
      results.push(await work(i));
      ms.push(performance.now() - t0);
    }
    return { ms: median(ms), cpuMs: ((target.cpuSeconds() - cpu0) * 1000) / UPLOADS, results };
  };
  const uploads = await timed((i) => put(target, file, files[i]));
  const downloads = await timed((i) => download(target.url, target.token, uploads.results[i]));
  const storedBytes = median(uploads.results.map((stored) => stored.size));
  const figures: Figures = { uploadMs: uploads.ms, uploadCpuMs: uploads.cpuMs, downloadMs: downloads.ms, downloadCpuMs: downloads.cpuMs, storedBytes };

  figures.idleRss = (await target.memoryAfterGc()).rss;
  for (const n of AT_ONCE) {
    const batch = await Promise.all(Array.from({ length: n }, () => variant(next++)));
    const before = (await target.memoryAfterGc()).rss;
    target.watch.resetPeak();
    const t0 = performance.now();
    await Promise.all(batch.map((bytes) => put(target, file, bytes)));
    figures[`seconds${n}`] = (performance.now() - t0) / 1000;
    figures[`peak${n}`] = target.watch.peak();
    figures[`growth${n}`] = target.watch.peak() - before;
  }
  return figures;
}

async function fileOf(name: string): Promise<BenchFile> {
  if (name === 'pdf' || name === 'pdf-pg') return pdfOfSize();
  if (name === 'jpeg') return jpegOfSize();
  throw new Error(`unknown attachments case ${name}: pdf, jpeg or pdf-pg`);
}

export async function attachmentsScenario(): Promise<void> {
  for (const name of CASES) {
    const file = await fileOf(name);
    const variant = variants(file);
    const runs: { bare: Figures; careThread: Figures }[] = [];
    for (let r = 0; r < REPEAT; r++) {
      // One after the other, so that each new child process is known by its parent pid.
      const bare = await startBareFiles();
      const careThread = await startCareThreadTarget(name === 'pdf-pg');
      try {
        // The reference first in odd repetitions, second in even ones.
        const order = r % 2 ? [careThread, bare] : [bare, careThread];
        const [first, second] = [await measure(order[0], file, variant), await measure(order[1], file, variant)];
        runs.push(r % 2 ? { careThread: first, bare: second } : { bare: first, careThread: second });
      } finally {
        await Promise.all([bare.stop(), careThread.stop()]);
      }
    }
    report(name, file, medians(runs.map((run) => run.bare)), medians(runs.map((run) => run.careThread)));
  }
}

function report(name: string, file: BenchFile, bare: Figures, care: Figures): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const rate = (bytes: number, x: number) => `${(bytes / MB / (x / 1000)).toFixed(0)} MB/s`;
  const database = name === 'pdf-pg' ? 'PostgreSQL' : 'SQLite';
  console.log(`attachments: a ${(file.size / 1e6).toFixed(2)} MB ${file.type} (${file.name}), CareThread on ${database}, ${UPLOADS} one after another, median of ${REPEAT}`);
  const times = (f: Figures) => [
    ms(f.uploadMs),
    rate(file.size, f.uploadMs),
    ms(f.uploadCpuMs),
    `${(f.storedBytes / 1e6).toFixed(2)} MB`,
    ms(f.downloadMs),
    rate(f.storedBytes, f.downloadMs),
    ms(f.downloadCpuMs),
  ];
  const ratios = ['uploadMs', '', 'uploadCpuMs', '', 'downloadMs', '', 'downloadCpuMs'].map((k) => (k ? ratio(care[k], bare[k]) : ''));
  console.log(
    table(
      ['server', 'upload', 'rate', 'server CPU/upload', 'stored', 'download', 'rate', 'server CPU/download'],
      [
        ['bare node:http + busboy (reference)', ...times(bare)],
        ['CareThread', ...times(care)],
        ['ratio', ...ratios],
      ],
    ),
  );
  const mb = (x: number) => `${(x / MB).toFixed(1)} MB`;
  const grown = (x: number) => `+${(x / MB).toFixed(1)} MB`;
  const memory = (f: Figures) => [mb(f.idleRss), ...AT_ONCE.flatMap((n) => [grown(f[`growth${n}`]), mb(f[`peak${n}`]), `${f[`seconds${n}`].toFixed(2)} s`])];
  console.log(
    table(
      ['server RSS', 'idle, after GC', ...AT_ONCE.flatMap((n) => [`${n} at once: growth`, 'peak', 'took'])],
      [
        ['bare node:http + busboy (reference)', ...memory(bare)],
        ['CareThread', ...memory(care)],
      ],
    ),
  );
  console.log();
}
