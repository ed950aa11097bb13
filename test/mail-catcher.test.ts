import { createTransport } from 'nodemailer';
import { startMailCatcher, type MailCatcher } from './support/mail-catcher';

describe('mail catcher (test SMTP server)', () => {
  let catcher: MailCatcher;
  beforeEach(async () => {
    catcher = await startMailCatcher();
  });
  afterEach(() => catcher.close());

  const transport = () => createTransport({ host: catcher.host, port: catcher.port, secure: false, ignoreTLS: true });
  /** As the server's mailer builds it: from SMTP_URL alone (STARTTLS is not offered, so none is tried). */
  const urlTransport = () => createTransport({ url: catcher.url });
  const message = (subject: string) => ({
    from: 'CareThread <noreply@carethread.test>',
    to: 'nurse@example.org',
    bcc: 'audit@example.org',
    subject,
    text: 'You have a new message.',
    html: '<p>You have a new message.</p>',
    list: { unsubscribe: { url: 'https://x/unsub?token=abc', comment: 'Unsubscribe' } },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  });

  it('catches a message sent by nodemailer, with its envelope and headers', async () => {
    await transport().sendMail(message('New message from your care team'));

    const [mail] = await catcher.waitFor(1);
    expect(catcher.url).toBe(`smtp://127.0.0.1:${catcher.port}`);
    expect(mail.from).toBe('noreply@carethread.test');
    expect(mail.to).toEqual(['nurse@example.org', 'audit@example.org']);
    expect(mail.subject).toBe('New message from your care team');
    expect(mail.text.trim()).toBe('You have a new message.');
    expect(mail.html).toContain('<p>You have a new message.</p>');
    expect(mail.headers.get('list-unsubscribe')).toBe('<https://x/unsub?token=abc> (Unsubscribe)');
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers.get('message-id')).toMatch(/^<.+@.+>$/);
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.raw).toContain('Subject: New message from your care team');
  });

  it('answers 451 while down, and accepts mail again once up', async () => {
    catcher.setDown(true);
    await expect(transport().sendMail(message('During the outage'))).rejects.toMatchObject({ responseCode: 451 });
    expect(catcher.mails).toHaveLength(0);

    catcher.setDown(false);
    await urlTransport().sendMail(message('After the outage'));
    expect((await catcher.waitFor(1)).map((m) => m.subject)).toEqual(['After the outage']);
  });

  it('waitFor rejects with a clear message after its timeout', async () => {
    await expect(catcher.waitFor(1, 100)).rejects.toThrow('expected 1 mail(s) within 100 ms, got 0');
  });
});
