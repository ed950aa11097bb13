import { createHash, timingSafeEqual } from 'node:crypto';
import type express from 'express';
import type { App } from './app';

/** A dependency that has not answered by then counts as down: a probe must answer, not hang with it. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

type CheckName = 'database' | 'redis';

/**
 * The operational endpoints, outside GraphQL:
 * - GET /healthz, liveness: 200 {"status":"ok"} while the process answers; it touches nothing else.
 * - GET /readyz, readiness: 200 {"status":"ready","checks":{...}} when the database answers
 *   `SELECT 1` and, with REDIS_URL, every Redis connection answers PING, each within
 *   READINESS_CHECK_TIMEOUT_MS; otherwise 503 naming the check that failed (the reason is
 *   logged, never sent). 503 {"status":"shutting down"} once `closing()` says so.
 * - GET /metrics: Prometheus text. With `config.metricsToken` it needs
 *   `Authorization: Bearer <token>` (401 otherwise); without one it is open.
 */
export function serveProbes(expressApp: express.Express, app: App, closing: () => boolean): void {
  expressApp.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  expressApp.get('/readyz', async (_req, res) => {
    const checks = closing() ? null : await readiness(app);
    // Asked again: shutdown may have begun while the checks ran.
    if (!checks || closing()) {
      res.status(503).json({ status: 'shutting down' });
      return;
    }
    const ready = Object.values(checks).every((result) => result === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  const token = app.config.metricsToken;
  expressApp.get('/metrics', async (req, res) => {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.status(401).set('www-authenticate', 'Bearer').type('text/plain').send('Unauthorized\n');
      return;
    }
    const { contentType, text } = await app.metrics.render();
    res.set('content-type', contentType).send(text);
  });
}

/** Each check's result, run side by side; a failure is logged with its reason. */
async function readiness(app: App): Promise<Partial<Record<CheckName, 'ok' | 'failed'>>> {
  const checks: [CheckName, () => Promise<unknown>][] = [['database', () => app.db.query('SELECT 1')]];
  // Every connection the app holds: the event bus's publisher and subscriber, the login limiter's.
  if (app.config.redisUrl) checks.push(['redis', () => Promise.all([app.events.ping(), app.loginLimiter.ping()])]);
  const results = await Promise.all(
    checks.map(async ([name, check]) => {
      try {
        await withTimeout(check, READINESS_CHECK_TIMEOUT_MS);
        return [name, 'ok'] as const;
      } catch (error) {
        app.logger.warn({ err: error, check: name }, 'readiness check failed');
        return [name, 'failed'] as const;
      }
    }),
  );
  return Object.fromEntries(results);
}

function withTimeout<T>(work: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(work), timeout]).finally(() => clearTimeout(timer));
}

/** Compares digests, which have one length, so that the time taken says nothing about the token. */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
