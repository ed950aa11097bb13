import { fork } from 'node:child_process';
import { join } from 'node:path';
import { TestClock } from './clock';
import { compiled } from './compiled-server';
import { startTestServer } from './server';

// A test server in a process of its own, with a TestClock the test moves over
// IPC: what instances behind a load balancer are, down to their own SQLite
// connection (several servers in one process would never hold a SQLite lock
// while another waits for it, so they would not contend like real instances).
// Run directly (by startChildServer, compiled), this file is the child.

const ROOT = join(__dirname, '..', '..');

type Op = 'advance' | 'reads' | 'subscribers' | 'close';

interface Request {
  id: number;
  op: Op;
  ms?: number;
}

export interface ChildServer {
  url: string;
  wsUrl: string;
  pid: number;
  /** Moves this instance's clock forward. */
  advance(ms: number): Promise<void>;
  /** How many times its escalation schedule has read the clock (see TestClock.reads). */
  reads(): Promise<number>;
  /** Live subscriptions it holds (its live hub's size). */
  subscriberCount(): Promise<number>;
  /** Everything it printed (logs at LOG_LEVEL, 'error' unless `settings` say otherwise). */
  output(): string;
  /** Closes the server and waits for the process to end; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts startTestServer(settings, { clock: new TestClock(offsetMs) }) in a
 * child process and resolves once it listens. `settings` must name the
 * database (DATABASE_URL, and DATABASE_SCHEMA on PostgreSQL): the child makes
 * and drops none. Rejects with the child's output if it ends before listening
 * or takes longer than `timeoutMs`.
 */
export function startChildServer(settings: Record<string, string>, offsetMs = 0, timeoutMs = 30_000): Promise<ChildServer> {
  if (!settings.DATABASE_URL) throw new Error('a child server needs DATABASE_URL: it shares a database with the test');
  // This file as the global setup compiled it: a start in a fraction of ts-node's seconds.
  const child = fork(compiled('test/support/child-server.ts'), [], {
    cwd: ROOT,
    // Decorators need reflect-metadata before the entities load (jest's setupFiles does it for tests).
    execArgv: ['-r', 'reflect-metadata'],
    env: { ...process.env, CHILD_SERVER_SETTINGS: JSON.stringify({ LOG_LEVEL: 'error', ...settings }), CHILD_CLOCK_OFFSET_MS: String(offsetMs) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, (value: unknown) => void>();
  let next = 0;
  const call = (op: Op, ms?: number) =>
    new Promise<unknown>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`child server ${child.pid} is gone:\n${output}`));
      const id = ++next;
      pending.set(id, resolve);
      child.send({ id, op, ms } satisfies Request);
    });

  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`child server did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const endedEarly = (code: number | null) => fail(new Error(`child server ended (code ${code}) before listening:\n${output}`));
    child.once('exit', endedEarly);
    child.on('message', (message: { ready?: { url: string }; id?: number; result?: unknown }) => {
      if (message.id !== undefined) {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
        return;
      }
      if (!message.ready) return;
      clearTimeout(timer);
      child.off('exit', endedEarly);
      const { url } = message.ready;
      let closing: Promise<void> | undefined;
      resolve({
        url,
        wsUrl: url.replace(/^http/, 'ws'),
        pid: child.pid!,
        advance: async (ms) => void (await call('advance', ms)),
        reads: async () => (await call('reads')) as number,
        subscriberCount: async () => (await call('subscribers')) as number,
        output: () => output,
        close: () =>
          (closing ??= (async () => {
            if (child.connected) await call('close').catch(() => undefined);
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(killer);
          })()),
      });
    });
  });
}

/** The child: one server, answering the parent's requests until told to close (or the parent goes). */
async function main(): Promise<void> {
  const clock = new TestClock(Number(process.env.CHILD_CLOCK_OFFSET_MS ?? 0));
  const server = await startTestServer(JSON.parse(process.env.CHILD_SERVER_SETTINGS!) as Record<string, string>, { clock });
  const reply = (id: number, result: unknown) => process.send!({ id, result });
  process.on('message', (request: Request) => {
    switch (request.op) {
      case 'advance':
        clock.advance(request.ms!);
        return reply(request.id, clock.offset);
      case 'reads':
        return reply(request.id, clock.reads);
      case 'subscribers':
        return reply(request.id, server.live.size);
      case 'close':
        void server.close().then(() => {
          reply(request.id, true);
          process.disconnect();
          process.exitCode = 0;
        });
    }
  });
  // The test process ended without closing us: nobody is left to ask.
  process.once('disconnect', () => void server.close().finally(() => process.exit(0)));
  process.send!({ ready: { url: server.url } });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('child server failed to start:', error);
    process.exit(1);
  });
}
