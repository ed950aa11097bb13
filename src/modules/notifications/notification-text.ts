/**
 * Everything a notification says, in one place. Never a subject, a body, a
 * name (the patient's, a team's, the sender's) or anything else clinical:
 * only that a secure message waits for the account it is addressed to, and
 * where to read it. The last test of test/notifications.test.ts holds every one
 * sent in that file to it.
 */
export interface NoticeText {
  subject: string;
  text: string;
}

export function emailText(reminder: boolean, appUrl: string, unsubscribeUrl: string): NoticeText {
  const waiting = reminder ? 'A secure message is still waiting for you in CareThread.' : 'A secure message is waiting for you in CareThread.';
  return {
    subject: reminder ? 'Reminder: a secure message is waiting for you' : 'A secure message is waiting for you',
    text: [
      waiting,
      'For your privacy, this e-mail does not say who wrote it or what it says. Sign in to read it:',
      '',
      appUrl,
      '',
      '--',
      `To stop these e-mails, open ${unsubscribeUrl}`,
    ].join('\n'),
  };
}

/** The Web Push payload the dashboard's service worker shows (web/app/service-worker.ts). */
export function pushPayload(reminder: boolean, appUrl: string): string {
  return JSON.stringify({
    title: 'CareThread',
    body: reminder ? 'A secure message is still waiting for you.' : 'A secure message is waiting for you.',
    url: appUrl,
    // One notification on the device however many are sent: each replaces the last.
    tag: 'carethread-waiting',
  });
}
