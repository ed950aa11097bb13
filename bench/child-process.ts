/**
 * Servers the bench measures from outside: each is a child process whose CPU
 * and memory are read from /proc, so they are the server's alone, never the
 * clients'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_SETTINGS } from './api';

const ROOT = join(__dirname, '..');
/** Node options of every measured server: a garbage collection and a memory report on SIGUSR2. */
export const MEASURED = ['--expose-gc', '-r', './bench/gc-on-signal.cjs'];

export interface ServerProcess {
  url: string;
  pid: number;
  /** CPU time of every thread of the process so far, in seconds (nanosecond counters of /proc/<pid>/task/<tid>/schedstat). */
  cpuSeconds(): number;
  /** RSS and V8 heap in use after a full garbage collection (bench/gc-on-signal.cjs, on SIGUSR2). */
  memoryAfterGc(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9;
}

/** Starts `args` with `env` only (nothing of the bench's own environment but PATH) and waits for the JSON line that names its URL. */
export function startProcess(args: string[], env: Record<string, string>, urlOf: (line: any) => string | undefined, onStop = () => {}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const memoryWaiters: ((m: { rss: number; heapUsed: number }) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      if (line.benchMemory) memoryWaiters.shift()?.(line.benchMemory);
      // What the bench did not ask for: a warning, an error, or a stop by a signal.
      if (line.level >= 40 || line.signal) process.stderr.write(`${args.at(-1)}: ${text}\n`);
      const url = urlOf(line);
      if (!url) return;
      child.removeAllListeners('exit');
      resolve({
        url,
        pid: child.pid!,
        cpuSeconds: () => cpuSeconds(child.pid!),
        memoryAfterGc: () => new Promise((done) => (memoryWaiters.push(done), child.kill('SIGUSR2'))),
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => (onStop(), done()));
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** CareThread as built in dist/ (`npm run bench` builds it first) on a SQLite file in a temporary folder, with `settings` beside the bench's. */
export async function startCareThread(settings: Record<string, string> = {}): Promise<ServerProcess & { databasePath: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'carethread-bench-'));
  const databasePath = join(dir, 'bench.sqlite');
  const server = await startCareThreadWith({ DATABASE_URL: `sqlite:${databasePath}`, ...settings }, () => rmSync(dir, { recursive: true, force: true }));
  return { ...server, databasePath };
}

/** CareThread as built in dist/ with `settings` beside the bench's (a database, Redis, an instance id); `onStop` once it exited. */
export function startCareThreadWith(settings: Record<string, string>, onStop?: () => void): Promise<ServerProcess> {
  // As in production (docs/operations.md): NODE_ENV=production (graphql-js and Express then skip
  // their development checks), and `info`: the line with its URL, and the access log's per request.
  const env = { ...SERVER_SETTINGS, NODE_ENV: 'production', LOG_LEVEL: 'info', ...settings };
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return startProcess([...MEASURED, ...profile, 'dist/src/main.js'], env, (line) => (line.msg === 'CareThread is listening' ? line.url : undefined), onStop);
}

/** bench/bare-broadcast.ts, writing frames of `frameBytes`. */
export const startBareBroadcast = (frameBytes: number): Promise<ServerProcess> =>
  startProcess([...MEASURED, '-r', 'ts-node/register/transpile-only', 'bench/bare-broadcast.ts'], { FRAME_BYTES: String(frameBytes) }, (line) => line.url);

/** bench/bare-send.ts on the SQLite file `databasePath` (removed when it stops). */
export const startBareSend = (databasePath: string): Promise<ServerProcess> =>
  startProcess(
    [...MEASURED, '-r', 'ts-node/register/transpile-only', 'bench/bare-send.ts'],
    { BARE_DATABASE: databasePath, JWT_SECRET: SERVER_SETTINGS.JWT_SECRET },
    (line) => line.url,
    () => rmSync(dirname(databasePath), { recursive: true, force: true }),
  );
