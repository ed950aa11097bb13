import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** A message the catcher accepted. */
export interface CaughtMail {
  /** The envelope sender (MAIL FROM). */
  from: string;
  /** The envelope recipients (RCPT TO), Bcc included. */
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  /** Header values as sent (unfolded), by lower-case name; the first one when a header repeats. */
  headers: Map<string, string>;
  raw: string;
}

export interface MailCatcher {
  /** smtp://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  /** Accepted messages, in order of arrival. */
  mails: CaughtMail[];
  /** Resolves with `mails` once at least `count` have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<CaughtMail[]>;
  /** While down, every MAIL FROM and DATA is answered 451 (a temporary failure), as in an outage. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** A temporary SMTP failure: smtp-server replies with the error's `responseCode`. */
function unavailable(): Error & { responseCode: number } {
  return Object.assign(new Error('Service temporarily unavailable, try again later'), { responseCode: 451 });
}

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** An SMTP server (no TLS, no authentication) on an ephemeral port of 127.0.0.1. */
export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  let down = false;

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const raw = await readAll(stream);
    const parsed = await simpleParser(raw);
    const headers = new Map<string, string>();
    // headerLines keeps what the sender wrote; parsed.headers turns some headers (List-*, addresses) into objects.
    for (const { key, line } of parsed.headerLines) {
      if (!headers.has(key)) headers.set(key, line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
    }
    const { mailFrom, rcptTo } = session.envelope;
    mails.push({
      from: mailFrom ? mailFrom.address : '',
      to: rcptTo.map((r) => r.address),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : null,
      headers,
      raw: raw.toString('utf8'),
    });
  }

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    // Do not keep a test waiting on a client that left a connection open.
    closeTimeout: 500,
    onMailFrom(_address, _session, callback) {
      callback(down ? unavailable() : null);
    },
    onData(stream, session, callback) {
      if (down) return callback(unavailable());
      receive(stream, session).then(
        () => callback(),
        (error: unknown) => callback(Object.assign(new Error(`Could not parse the message: ${String(error)}`), { responseCode: 554 })),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    mails,
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < count) {
        if (Date.now() > deadline) throw new Error(`Mail catcher: expected ${count} mail(s) within ${timeoutMs} ms, got ${mails.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return mails;
    },
    setDown(value) {
      down = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
