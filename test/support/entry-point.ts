import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { compiled } from './compiled-server';

const ROOT = join(__dirname, '..', '..');

/** A line of a stack trace, which no start-up failure may show. */
export const STACK_FRAME = /\n\s+at /;

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  exited: Promise<Exited>;
  output(): { stdout: string; stderr: string };
}

/**
 * An entry point of src/ (e.g. 'src/main.ts') in a child process, compiled as `npm start`
 * runs it (by the global setup), with only the given settings (plus PATH): nothing leaks in
 * from the environment jest runs in. It runs in `cwd`, the project root unless told
 * otherwise, where relative paths land.
 */
export function spawnEntry(script: string, env: Record<string, string>, cwd = ROOT): Started {
  const child = spawn(process.execPath, [compiled(script)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Runs an entry point (see spawnEntry) to its end; kills it if it does not end within `timeoutMs`. */
export async function runToExit(script: string, env: Record<string, string>, { cwd = ROOT, timeoutMs = 15000 } = {}): Promise<Exited> {
  const { child, exited } = spawnEntry(script, env, cwd);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills a child that has not ended yet (for `finally`, after a failed expectation). */
export function killIfRunning({ child }: Started): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Whether a TCP connection to host:port is accepted (and then closed). */
export function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs an entry point (see runToExit) with PORT set to a port this process holds meanwhile. */
export async function runOnTakenPort(script: string, env: Record<string, string>, options: Parameters<typeof runToExit>[2] = {}): Promise<Exited & { port: number }> {
  const { port, release } = await holdPort();
  try {
    return { port, ...(await runToExit(script, { ...env, PORT: String(port) }, options)) };
  } finally {
    await release();
  }
}

/** A port on 127.0.0.1 held by this process until `release()`; a free port once released. */
export async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}
