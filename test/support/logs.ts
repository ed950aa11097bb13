import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger';

export type LogLine = Record<string, unknown> & { level: number; msg?: string; requestId?: string };

/** The server's real logger (level info), writing its JSON lines into `lines` (parsed) and `texts` (as written) instead of stdout. */
export function memoryLogger(): { logger: Logger; lines: LogLine[]; texts: string[] } {
  const lines: LogLine[] = [];
  const texts: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        texts.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger('info', stream), lines, texts };
}
