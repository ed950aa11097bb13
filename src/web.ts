import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import compression from 'compression';
import express from 'express';
import helmet from 'helmet';
import type { Logger } from './logger';

/** The project root: the nearest folder above this file with a package.json (src/ under ts-node and jest, dist/src/ once built). */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** Where scripts/build-web.mjs puts the bundled pages. */
export const WEB_ROOT = join(projectRoot(), 'dist', 'web');

// The pages load only what this server serves: no CDN, no inline scripts. Monaco (GraphiQL's
// editor) injects styles and runs its language workers from this origin. 'self' in connect-src
// also covers ws: to this host and port (CSP Level 3), which graphql-ws needs.
const pageHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      workerSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
      formAction: ["'none'"],
    },
  },
  // Served over plain HTTP inside clinic networks too; TLS is the proxy's business.
  strictTransportSecurity: false,
});

/**
 * GraphiQL for a browser opening `graphqlPath` (GET, Accept text/html), its assets
 * under /graphiql/, and the reference dashboard at /app, where `/` redirects. Everything
 * comes from dist/web (npm run build); without it the pages answer 404 and a warning is logged once.
 */
export function serveWeb(expressApp: express.Express, graphqlPath: string, logger: Logger): void {
  if (!existsSync(WEB_ROOT)) logger.warn({ webRoot: WEB_ROOT }, 'the browser pages are not built (npm run build): GraphiQL and /app answer 404');
  const page = (name: string) => (_req: express.Request, res: express.Response) => {
    res.sendFile(join(WEB_ROOT, name, 'index.html'), (error) => {
      if (error && !res.headersSent) res.status(404).type('text/plain').send('This page is not built: run npm run build');
    });
  };
  expressApp.get(graphqlPath, (req, res, next) => (req.accepts(['application/json', 'text/html']) === 'text/html' ? pageHeaders(req, res, () => page('graphiql')(req, res)) : next()));
  // GraphiQL's script is 5 MB, about 1.4 MB gzipped. Only the static files are compressed: a
  // compressed API answer that reflects a client's input next to a secret invites BREACH.
  const assets = compression();
  expressApp.use('/graphiql', pageHeaders, assets, express.static(join(WEB_ROOT, 'graphiql'), { index: false, fallthrough: false }));
  expressApp.get('/', (_req, res) => res.redirect('/app'));
  expressApp.get(['/app', '/app/'], pageHeaders, page('app'));
  expressApp.use('/app', pageHeaders, assets, express.static(join(WEB_ROOT, 'app'), { index: false, fallthrough: false }));
}
