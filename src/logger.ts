import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs on stdout; `silent` turns them off (tests). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'carethread' } });
}
