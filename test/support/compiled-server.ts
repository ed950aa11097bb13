import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Where the integration lanes' global setup compiles src/ (test/support/global-setup.ts). */
export const TEST_BUILD_ENV = 'CARETHREAD_TEST_BUILD';

/**
 * Compiles src/ into `outDir` as `npm start` runs it, with the child test
 * server (child-server.ts), without checking types (`npm test` does that first): a child process then starts in a fraction of a
 * second, where ts-node takes some 3 s and 60 MB. `outDir` must lie under
 * node_modules/.cache, so that the compiled files' imports resolve. The build
 * info goes with the output, never to dist/ (whose own incremental build it
 * would fool).
 */
export function compileServer(outDir: string): void {
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'test/support/tsconfig.compiled.json', '--outDir', outDir, '--tsBuildInfoFile', join(outDir, '.tsbuildinfo'), '--noCheck'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** The compiled form of `script` (e.g. 'src/main.ts'), from the build the global setup made. */
export function compiled(script: string): string {
  const build = process.env[TEST_BUILD_ENV];
  if (!build) throw new Error(`no compiled server: ${TEST_BUILD_ENV} is set by the global setup of jest.config.js`);
  return join(build, script.replace(/\.ts$/, '.js'));
}
