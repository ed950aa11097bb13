import { existsSync, readFileSync, rmSync } from 'node:fs';
import { pgClient, POSTGRES_ADMIN_URL, RUN_ENV } from './services';

/** Ends any server process a failed file left running, then drops the run's database, whatever the outcome. */
export default async function globalTeardown(): Promise<void> {
  const pidFile = process.env[RUN_ENV.pids];
  if (pidFile && existsSync(pidFile)) {
    for (const pid of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(pidFile, { force: true });
  }
  const build = process.env[RUN_ENV.build];
  if (build) rmSync(build, { recursive: true, force: true });
  const url = process.env[RUN_ENV.database];
  if (!url) return;
  const database = new URL(url).pathname.slice(1);
  const admin = await pgClient(POSTGRES_ADMIN_URL);
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
