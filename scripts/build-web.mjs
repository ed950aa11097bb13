// Bundles the browser pages the server serves (GraphiQL at /graphql, the dashboard at /app)
// into dist/web, so that nothing is fetched from a CDN at run time. Run by `npm run build`
// and before the tests; esbuild and the front-end packages are devDependencies only.
// Does nothing when no input changed since the last build (see upToDate): rm -rf dist rebuilds all.
import { build } from 'esbuild';
import { cp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
/** In a complete build: the files it read, dated when it began. */
const STAMP = '.inputs.json';
const pages = ['graphiql', 'app'];
/**
 * Read by every build besides the bundles' own inputs: this script, the copied pages, and the
 * file npm rewrites whenever it changes node_modules (whose files keep the packages' old dates).
 */
const alwaysRead = ['scripts/build-web.mjs', ...pages.map((page) => `web/${page}/index.html`), 'node_modules/.package-lock.json'];

/** True when a complete build exists and none of what it read (nor alwaysRead) has changed since it began. */
async function upToDate() {
  let built, inputs;
  try {
    [built, inputs] = await Promise.all([stat(join(out, STAMP)), readFile(join(out, STAMP), 'utf8').then(JSON.parse)]);
  } catch {
    return false;
  }
  const dates = await Promise.all([...inputs, ...alwaysRead].map((file) => stat(join(root, file)).then((s) => s.mtimeMs, () => Infinity)));
  return dates.every((date) => date < built.mtimeMs);
}

/** Prints what a browser downloads for the dashboard, as sent compressed (README states it). */
async function printDashboardSize() {
  const files = ['app/dashboard.js', 'app/dashboard.css'];
  const contents = await Promise.all(files.map((file) => readFile(join(out, file))));
  const raw = contents.reduce((sum, bytes) => sum + bytes.length, 0);
  // At zlib's default level, as the server's compression sends them.
  const gzipped = contents.reduce((sum, bytes) => sum + gzipSync(bytes).length, 0);
  console.log(`dashboard bundle: ${(raw / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped (${files.join(' + ')})`);
}

if (await upToDate()) {
  await printDashboardSize();
  process.exit(0);
}

const startedAt = new Date();
// Built beside dist/web and swapped in when complete: a server or test reading the pages meanwhile
// sees the old ones, and a failed build leaves them as they were.
const next = `${out}.next-${process.pid}`;
await rm(next, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  metafile: true,
};
const results = await Promise.all([
  build({
    ...common,
    entryPoints: {
      graphiql: 'web/graphiql/graphiql.tsx',
      // Monaco's language workers, which graphiql.tsx starts from beside itself.
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    // Monaco's icon font beside the stylesheet that loads it, so that it is served under /graphiql/.
    outdir: join(next, 'graphiql'),
    jsx: 'automatic',
    loader: { '.ttf': 'file' },
    // No source maps: GraphiQL is vendored code, and its maps (about 20 MB) would make up most of dist.
    sourcemap: false,
  }),
  build({
    ...common,
    entryPoints: { 'app/dashboard': 'web/app/main.tsx' },
    outdir: next,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: true,
  }),
  // The dashboard's service worker, served as /app/service-worker.js so that its scope is /app/.
  // A classic script: push.ts registers it without { type: 'module' }, which older browsers lack.
  build({
    ...common,
    entryPoints: { 'app/service-worker': 'web/app/service-worker.ts' },
    outdir: next,
    format: 'iife',
    sourcemap: true,
  }),
]);
for (const page of pages) await cp(join(root, 'web', page, 'index.html'), join(next, page, 'index.html'));
// Dated when the build began, so that a file saved while esbuild ran counts as newer.
const stamp = join(next, STAMP);
await writeFile(stamp, JSON.stringify([...new Set(results.flatMap((result) => Object.keys(result.metafile.inputs)))]));
await utimes(stamp, startedAt, startedAt);
const old = `${out}.old-${process.pid}`;
await rm(old, { recursive: true, force: true });
await rename(out, old).catch((error) => {
  if (error.code !== 'ENOENT') throw error;
});
await rename(next, out);
await rm(old, { recursive: true, force: true });
await printDashboardSize();
