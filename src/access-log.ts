import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from './logger';
import { requestIdOf } from './request-id';

/** Probed and scraped every few seconds: their lines would drown the requests. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The path alone: a GET's query string can hold GraphQL variables, which may name a patient. */
export const pathOf = (url = '') => url.split('?', 1)[0];

/**
 * One JSON line per HTTP request when its response is done (method, path, status,
 * time), first in the chain: it gives the request its id (the client's valid
 * X-Request-Id, else a new UUID), sets it on the response, and every later
 * middleware reads it as `req.id`. No headers are logged (they carry the token).
 */
export function accessLog(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req);
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has(pathOf(req.url)) },
    // Ours read the request and response themselves: pino-http's would first copy every header of each.
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ method: req.method, path: pathOf(req.url) }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
    },
    // A 5xx's cause is logged as an error where it happened; this line only says how it ended.
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'warn' : 'info'),
    // In the line itself, not as a binding: the logger's mixin would add it a second time.
    customSuccessObject: (req, _res, line) => ({ ...line, requestId: req.id }),
    customErrorObject: (req, res, _error, line: { responseTime?: number }) => ({ res, responseTime: line.responseTime, requestId: req.id }),
  });
}
