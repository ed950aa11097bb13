// Bundles the browser pages the server serves (GraphiQL at /graphql, the dashboard at /app)
// into dist/web, so that nothing is fetched from a CDN at run time. Run by `npm run build`
// and before the tests; esbuild and the front-end packages are devDependencies only.
import { build } from 'esbuild';
import { cp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

await rm(out, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};
await Promise.all([
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
    outdir: join(out, 'graphiql'),
    jsx: 'automatic',
    loader: { '.ttf': 'file' },
    // No source maps: GraphiQL is vendored code, and its maps (about 20 MB) would make up most of dist.
    sourcemap: false,
  }),
  build({
    ...common,
    entryPoints: { 'app/dashboard': 'web/app/dashboard.ts' },
    outdir: out,
    sourcemap: true,
  }),
]);
for (const page of ['graphiql', 'app']) await cp(join(root, 'web', page, 'index.html'), join(out, page, 'index.html'));
