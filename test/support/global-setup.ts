import { join } from 'node:path';
import { compileServer, TEST_BUILD_ENV } from './compiled-server';

/**
 * Compiles the server once per run for the tests that start it, or one of its
 * commands, in a child process (support/entry-point.ts, support/cli.ts).
 * Incremental: with nothing changed since the last run, it only checks.
 */
export default function globalSetup(): void {
  const build = join(__dirname, '..', '..', 'node_modules', '.cache', 'carethread-test');
  compileServer(build);
  process.env[TEST_BUILD_ENV] = build;
}
