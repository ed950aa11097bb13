import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileServer } from '../../support/compiled-server';
import { DATABASE_NAME, newDatabaseName, pgClient, pingRedis, POSTGRES_ADMIN_URL, REDIS_URL, RUN_ENV, withDatabase } from './services';

/** Databases of runs that were killed before their teardown are dropped after this long. */
const STALE_AFTER_SECONDS = 6 * 3600;

/**
 * Checks that PostgreSQL and Redis answer and creates this run's database.
 * Without them the suite is skipped with a loud message, except under CI=true,
 * where the run fails: a CI without its services must not look green.
 */
export default async function globalSetup(): Promise<void> {
  const problems: string[] = [];
  let admin;
  try {
    admin = await pgClient(POSTGRES_ADMIN_URL);
  } catch (error) {
    problems.push(`PostgreSQL at ${redact(POSTGRES_ADMIN_URL)}: ${(error as Error).message}`);
  }
  await pingRedis(REDIS_URL).catch((error: Error) => problems.push(`Redis at ${REDIS_URL}: ${error.message}`));

  if (problems.length) {
    await admin?.end();
    const message = `npm run test:scale needs PostgreSQL and Redis:\n  ${problems.join('\n  ')}`;
    if (process.env.CI === 'true') throw new Error(`${message}\nCI=true: failing instead of skipping.`);
    const bar = '!'.repeat(78);
    console.warn(`\n${bar}\n${message}\nSKIPPING EVERY SCALE TEST (set SCALE_POSTGRES_URL / SCALE_REDIS_URL, or run the services).\n${bar}\n`);
    process.env[RUN_ENV.skip] = problems.join('; ');
    return;
  }

  try {
    const { rows } = await admin!.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'carethread_scale_%'`);
    const now = Date.now() / 1000;
    for (const { datname } of rows) {
      const created = DATABASE_NAME.exec(datname)?.[1];
      if (created && now - Number(created) > STALE_AFTER_SECONDS) await admin!.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    const database = newDatabaseName();
    await admin!.query(`CREATE DATABASE "${database}"`);
    process.env[RUN_ENV.database] = withDatabase(POSTGRES_ADMIN_URL, database);
    // Every server process this run starts writes its pid here; the teardown ends any left over.
    const pids = join(tmpdir(), `${database}.pids`);
    writeFileSync(pids, '');
    process.env[RUN_ENV.pids] = pids;
    // The servers run compiled, as `npm start` runs them: ts-node would add some 60 MB of
    // TypeScript to each process's heap (the memory checks run with a small heap) and 2 s to each start.
    const build = join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'carethread-scale', database);
    compileServer(build);
    process.env[RUN_ENV.build] = build;
    console.log(`scale run: database ${database}, Redis ${REDIS_URL}, server built in ${build}`);
  } finally {
    await admin!.end();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
