import pino from 'pino';
import { currentOrigin } from './common/request-origin';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout (or `destination`); `silent` turns them off (tests).
 * Every line logged while a request or a websocket operation runs carries its
 * `requestId`, the id the client got in X-Request-Id and in masked errors. A line
 * that names its request itself (the access log, a socket's own lines) keeps its value.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'carethread' },
      mixin: () => {
        const origin = currentOrigin();
        return origin ? { requestId: origin.requestId } : {};
      },
      redact: {
        paths: [
          // A failed query's values and the database's detail ("Key (email)=(...) already exists")
          // can be clinical text or a person's address: the statement and the code are enough.
          'err.parameters',
          'err.detail',
          'err.driverError.parameters',
          'err.driverError.detail',
          // Defence in depth: no code logs these, and a future `{ req }` or `{ input }` must not leak them.
          'headers.authorization',
          '*.headers.authorization',
          'password',
          '*.password',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
