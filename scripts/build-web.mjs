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
await build({
  absWorkingDir: root,
  entryPoints: {
    'graphiql/graphiql': 'web/graphiql/graphiql.tsx',
    'app/dashboard': 'web/app/dashboard.ts',
  },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
for (const page of ['graphiql', 'app']) await cp(join(root, 'web', page, 'index.html'), join(out, page, 'index.html'));
