import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN } from '../../support/server';
import { REDIS_URL, RUN_ENV } from './services';

const ROOT = join(__dirname, '..', '..', '..');
export const JWT_SECRET = 'scale-secret-scale-secret-scale-secret-01';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process ended. */
  at: number;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** One CareThread server process: the run's compiled src/main.ts (see the global setup). */
export interface Instance {
  name: string;
  pid: number;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  wsUrl: string;
  exited: Promise<Exit>;
  /** Everything the process wrote so far (pino JSON lines and anything else). */
  output(): string;
  logs(): LogLine[];
  /**
   * Resolves with the first log line matching, among those after the first
   * `after` lines (default 0: all of them; pass `logs().length` to wait for a
   * new one); rejects after `timeoutMs` or if the process ends first.
   */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number, after?: number): Promise<LogLine>;
  /** Resident set size in kB, read from /proc (no debugger or inspector involved). */
  rssKb(): number;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not ended within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<Exit>;
}

export interface InstanceOptions {
  /** Tables live in this schema of the run's database. */
  schema: string;
  /** Defaults to the machine's Redis; a proxy's URL in the Redis fault tests. */
  redisUrl?: string;
  env?: Record<string, string>;
  /** Options for node itself, e.g. --max-old-space-size. */
  nodeArgs?: string[];
}

const live = new Set<Instance>();

/** Starts one server process and resolves once it listens (its URL comes from its log). */
export async function startInstance(name: string, options: InstanceOptions): Promise<Instance> {
  const database = process.env[RUN_ENV.database];
  const build = process.env[RUN_ENV.build];
  if (!database || !build) throw new Error('the scale global setup did not create a database and build the server');
  const child = spawn(process.execPath, ['--enable-source-maps', '--trace-warnings', ...(options.nodeArgs ?? []), join(build, 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: database,
      DATABASE_SCHEMA: options.schema,
      REDIS_URL: options.redisUrl ?? REDIS_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET,
      PASSWORD_HASH_COST: '10',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'info',
      INSTANCE_ID: `scale-${name}-${Math.random().toString(36).slice(2, 8)}`,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackPid(child.pid!);
  let output = '';
  const waiters = new Set<() => void>();
  const logFile = process.env.SCALE_LOG_DIR ? join(process.env.SCALE_LOG_DIR, `${name}-${child.pid}.log`) : null;
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    if (logFile) appendFileSync(logFile, chunk);
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let ended = false;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      untrackPid(child.pid!);
      resolve({ code, signal, at: Date.now() });
      for (const wake of waiters) wake();
    }),
  );

  const logs = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 30_000, after = 0) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs().slice(after).find(match);
        if (found) return done(() => resolve(found));
        if (ended) return done(() => reject(new Error(`${name} ended before the expected log line:\n${output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${name}: expected log line not seen in ${timeoutMs} ms:\n${output}`))), timeoutMs);
      const done = (finish: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        finish();
      };
      waiters.add(check);
      check();
    });

  const instance: Instance = {
    name,
    pid: child.pid!,
    url: '',
    wsUrl: '',
    exited,
    output: () => output,
    logs,
    waitForLog,
    rssKb: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)![1]);
    },
    signal: (signal) => {
      if (!ended) child.kill(signal);
    },
    stop: async (timeoutMs = 15_000) => {
      if (!ended) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
        live.delete(instance);
      }
    },
  };
  live.add(instance);
  try {
    const listening = await waitForLog((line) => line.msg === 'CareThread is listening', 60_000);
    instance.url = String(listening.url);
    instance.wsUrl = instance.url.replace(/^http/, 'ws');
    return instance;
  } catch (error) {
    child.kill('SIGKILL');
    live.delete(instance);
    throw error;
  }
}

/** Ends every instance still running (afterAll of each file), SIGKILL after a grace period. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((instance) => instance.stop(5_000)));
}

/** Whether a log line is at error level or worse (pino: 50 error, 60 fatal). */
export const isError = (line: LogLine) => line.level >= 50;

function trackPid(pid: number): void {
  const file = process.env[RUN_ENV.pids];
  if (file) appendFileSync(file, `${pid}\n`);
}

function untrackPid(pid: number): void {
  const file = process.env[RUN_ENV.pids];
  if (!file) return;
  try {
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((line) => line && Number(line) !== pid).map((line) => `${line}\n`).join(''));
  } catch {
    // the teardown already removed it
  }
}
