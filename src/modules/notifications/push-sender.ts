import webpush, { WebPushError } from 'web-push';
import type { Logger } from '../../logger';
import type { NotificationConfig } from '../../config';
import { pushPayload } from './notification-text';
import type { PushSubscription } from './push-subscription.entity';
import type { SendOutcome } from './send-outcome';

/** How long a push service keeps a notification for a browser that is offline: a day, like the patients' reminder. */
const TTL_SECONDS = 24 * 3600;
const TIMEOUT_MS = 30_000;

/** How one browser's push ended; `gone`: its push service no longer knows it (404, 410), so it is removed. */
export type PushOutcome = SendOutcome | 'gone';

/** Sends the generic Web Push notification (RFC 8030, encrypted per RFC 8291, signed per RFC 8292: the web-push package). */
export class PushSender {
  constructor(
    private readonly vapid: NonNullable<NotificationConfig['vapid']>,
    private readonly logger: Logger,
  ) {}

  get publicKey(): string {
    return this.vapid.publicKey;
  }

  async send(subscription: PushSubscription, reminder: boolean, appUrl: string): Promise<PushOutcome> {
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
        pushPayload(reminder, appUrl),
        { vapidDetails: this.vapid, TTL: TTL_SECONDS, urgency: 'normal', timeout: TIMEOUT_MS },
      );
      return 'sent';
    } catch (error) {
      const status = error instanceof WebPushError ? error.statusCode : null;
      if (status === 404 || status === 410) return 'gone';
      // Rate limited, the service down, or no answer: try again later. Any other refusal will not change.
      const passing = status === null || status === 429 || status >= 500;
      this.logger.warn({ err: error, status, endpoint: new URL(subscription.endpoint).origin }, passing ? 'a push failed: it will be retried' : 'a push was refused for good');
      return passing ? 'retry' : 'failed';
    }
  }
}
