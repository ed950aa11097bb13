import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../logger';
import { emailText } from './notification-text';
import type { SendOutcome } from './send-outcome';

/** Longer than any SMTP server takes to answer, well below the lease (notification-rules.ts). */
const TIMEOUT_MS = 30_000;

/** The generic e-mail of a notification, to one address, with RFC 8058 one-click unsubscribe. */
export interface MailNotice {
  to: string;
  reminder: boolean;
  appUrl: string;
  unsubscribeUrl: string;
  /** Names this notification: a receiving server that sees it twice (a resend after a crash) may drop the second. */
  messageId: string;
}

/**
 * Sends notification e-mails over SMTP (nodemailer), or with SMTP_URL=log
 * writes each to the log at info level, whatever LOG_LEVEL says: for
 * development and the demo, where no mail server runs.
 */
export class Mailer {
  /** Null with SMTP_URL=log. */
  private readonly transport: Transporter | null;
  private readonly log: Logger;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.log = logger.child({ component: 'mail' }, { level: 'info' });
    this.transport =
      smtpUrl === 'log' ? null : nodemailer.createTransport({ url: smtpUrl, connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS });
  }

  async send(notice: MailNotice): Promise<SendOutcome> {
    const { subject, text } = emailText(notice.reminder, notice.appUrl, notice.unsubscribeUrl);
    if (!this.transport) {
      this.log.info({ to: notice.to, subject, text }, 'a notification e-mail (SMTP_URL=log: written here, not sent)');
      return 'sent';
    }
    try {
      await this.transport.sendMail({
        from: this.from,
        to: notice.to,
        subject,
        text,
        messageId: notice.messageId,
        list: { unsubscribe: notice.unsubscribeUrl },
        headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'Auto-Submitted': 'auto-generated' },
      });
      return 'sent';
    } catch (error) {
      const { responseCode, command } = error as { responseCode?: number; command?: string };
      // The server refused this address: sending again would be refused again.
      const refused = responseCode !== undefined && responseCode >= 500 && command === 'RCPT TO';
      this.logger.warn({ err: error, responseCode }, refused ? 'a notification e-mail was refused for good' : 'a notification e-mail failed: it will be retried');
      return refused ? 'failed' : 'retry';
    }
  }

  close(): void {
    this.transport?.close();
  }
}
