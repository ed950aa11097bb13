import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { compiled } from './compiled-server';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = join(__dirname, '..', '..');

/**
 * One of src/cli/ as a child process (compiled by the global setup), with the server's
 * settings in `env` only: DATABASE_URL and DATABASE_SCHEMA of this process do
 * not reach it (an empty value counts as unset).
 */
export function runCli(script: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [compiled(join('src', 'cli', script)), ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', DATABASE_SCHEMA: '', ...env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}
