import express from 'express';
import helmet from 'helmet';
import { User } from '../users/user.entity';
import type { DataSource } from 'typeorm';
import type { NotificationSettingsService } from './notification-settings.service';
import { UNSUBSCRIBE_PATH, unsubscribingUser } from './unsubscribe-token';

// A page of its own text: nothing to load, and its one form posts back here.
const headers = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] } },
  strictTransportSecurity: false,
});

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

/**
 * The unsubscribe link of every notification e-mail (List-Unsubscribe, RFC 8058).
 * POST (a mail client's one click, or the page's button) turns the account's
 * e-mail notifications off; GET only shows that button, since mail scanners
 * open links. No sign-in: the signed token names the account. A token this
 * server did not sign answers 400 with code INVALID_UNSUBSCRIBE_LINK, changing nothing.
 */
export function serveUnsubscribe(expressApp: express.Express, deps: { db: DataSource; settings: NotificationSettingsService; secret: Uint8Array }): void {
  const account = async (req: express.Request): Promise<User | null> => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const userId = token ? await unsubscribingUser(deps.secret, token) : null;
    return userId ? deps.db.manager.findOneBy(User, { id: userId }) : null;
  };
  const invalid = (req: express.Request, res: express.Response) => {
    const message = 'This unsubscribe link is not valid. Sign in to CareThread to change your notification settings.';
    res.status(400);
    if (req.accepts(['json', 'html']) === 'html') return void res.type('html').send(page('Link not valid', `<p>${message}</p>`));
    res.json({ errors: [{ message, extensions: { code: 'INVALID_UNSUBSCRIBE_LINK' } }] });
  };

  expressApp.get(UNSUBSCRIBE_PATH, headers, async (req, res, next) => {
    try {
      if (!(await account(req))) return invalid(req, res);
      res.type('html').send(
        page(
          'Stop notification e-mails?',
          '<p>You will no longer get e-mails when a secure message waits for you in CareThread. You can turn them on again in your settings.</p>' +
            '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Stop e-mails</button></form>',
        ),
      );
    } catch (error) {
      next(error);
    }
  });

  expressApp.post(UNSUBSCRIBE_PATH, headers, express.urlencoded({ extended: false, limit: '10kb' }), async (req, res, next) => {
    try {
      const user = await account(req);
      if (!user) return invalid(req, res);
      await deps.settings.unsubscribe(user);
      if (req.accepts(['json', 'html']) === 'html') return void res.type('html').send(page('E-mails stopped', '<p>You will no longer get notification e-mails from CareThread.</p>'));
      res.json({ unsubscribed: true });
    } catch (error) {
      next(error);
    }
  });
}
