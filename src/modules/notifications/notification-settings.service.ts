import { In, type DataSource } from 'typeorm';
import { SESSIONS_ENDED } from '../../events/event-bus';
import { badUserInput } from '../../errors';
import { AuditAction } from '../audit/audit-action';
import type { AuditedUnitOfWork } from '../audit/audit-entry';
import type { User } from '../users/user.entity';
import { NotificationChannel } from './notification-channel';
import { checkSettings, effectiveSettings } from './notification-rules';
import { NotificationSetting } from './notification-setting.entity';
import type { NotificationSettings, NotificationSettingsInput, PushSubscriptionInput } from './notification-settings.types';
import { PushSubscription } from './push-subscription.entity';

/** Push subscriptions one account may register (browsers, devices); registering more is refused. */
export const MAX_PUSH_DEVICES = 20;
const MAX_ENDPOINT_LENGTH = 1000;

export interface NotificationSettingsDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  /** The channels this server can send on. */
  available: NotificationChannel[];
  /** The push services' hosts an endpoint may name (PUSH_SERVICE_HOSTS), and their subdomains. */
  pushServiceHosts: readonly string[];
}

/** Each account's own notification settings and push browsers; every change audited against them. */
export class NotificationSettingsService {
  constructor(private readonly deps: NotificationSettingsDeps) {}

  async of(viewer: User): Promise<NotificationSettings> {
    const m = this.deps.db.manager;
    const [row, pushDevices] = await Promise.all([m.findOneBy(NotificationSetting, { userId: viewer.id }), m.countBy(PushSubscription, { userId: viewer.id })]);
    return { ...effectiveSettings(row, viewer.kind), available: this.deps.available, pushDevices };
  }

  async update(viewer: User, input: NotificationSettingsInput): Promise<NotificationSettings> {
    if (input.quietHours && input.clearQuietHours) throw badUserInput('Give quietHours or clearQuietHours, not both');
    checkSettings(input);
    await this.change(viewer, () => ({
      ...(input.channels ? { channels: [...new Set(input.channels)] } : {}),
      ...(input.delayMinutes ? { delayMinutes: input.delayMinutes } : {}),
      ...(input.quietHours ? { quietHours: input.quietHours } : input.clearQuietHours ? { quietHours: null } : {}),
    }));
    return this.of(viewer);
  }

  /** Turns e-mail off (the unsubscribe link, which needs no sign-in: its token names the account). */
  async unsubscribe(user: User): Promise<void> {
    await this.change(user, (current) => ({ channels: current.channels.filter((c) => c !== NotificationChannel.EMAIL) }));
  }

  /**
   * Registered at wiring: a session ended (not expired) takes the push
   * subscriptions it registered with it; every session ended (signed out
   * everywhere, the account disabled) takes all of the account's.
   */
  listen(): void {
    this.deps.uow.on(SESSIONS_ENDED, async (tx, { userId, sessionIds, everySession }) => {
      await tx.manager.delete(PushSubscription, everySession ? { userId } : { userId, sessionId: In(sessionIds) });
    });
  }

  /** `sessionId`: the caller's sign-in session, which takes the subscription with it when it is ended. */
  async registerPush(viewer: User, sessionId: string | null, subscription: PushSubscriptionInput): Promise<NotificationSettings> {
    const { endpoint, keys } = subscription;
    if (endpoint.length > MAX_ENDPOINT_LENGTH || !URL.canParse(endpoint) || new URL(endpoint).protocol !== 'https:') {
      throw badUserInput(`endpoint must be the push service's https:// URL (at most ${MAX_ENDPOINT_LENGTH} characters)`);
    }
    // The server POSTs to it: only to a browser's push service, never to whatever host a caller names.
    const host = new URL(endpoint).hostname;
    if (!this.deps.pushServiceHosts.some((known) => host === known || host.endsWith(`.${known}`))) throw badUserInput(`endpoint is not at a known push service (${host})`);
    if (decodedLength(keys.p256dh) !== 65 || Buffer.from(keys.p256dh, 'base64url')[0] !== 4) throw badUserInput('keys.p256dh must be an uncompressed P-256 public key, base64url (65 bytes)');
    if (decodedLength(keys.auth) !== 16) throw badUserInput('keys.auth must be 16 bytes, base64url');
    await this.deps.uow.run(async (tx) => {
      const m = tx.manager;
      const others = await m.countBy(PushSubscription, { userId: viewer.id });
      const existing = await m.findOneBy(PushSubscription, { endpoint });
      if (!existing && others >= MAX_PUSH_DEVICES) throw badUserInput(`At most ${MAX_PUSH_DEVICES} browsers may be registered for push; remove one first`);
      // The same browser registered again (or signed in as someone else since) is this account's now.
      await m.save(PushSubscription, { endpoint, userId: viewer.id, sessionId, p256dh: keys.p256dh, auth: keys.auth, createdAt: new Date() });
      await tx.audit({ actor: viewer, action: AuditAction.NotificationSettingsChanged, subjectUserId: viewer.id });
    });
    return this.of(viewer);
  }

  /** Removes one of the viewer's browsers; NOT_FOUND is never said, as nothing of another account's shows: an unknown endpoint changes nothing. */
  async removePush(viewer: User, endpoint: string): Promise<NotificationSettings> {
    await this.deps.uow.run(async (tx) => {
      const removed = await tx.manager.delete(PushSubscription, { endpoint, userId: viewer.id });
      if (removed.affected) await tx.audit({ actor: viewer, action: AuditAction.NotificationSettingsChanged, subjectUserId: viewer.id });
    });
    return this.of(viewer);
  }

  private async change(user: User, next: (current: ReturnType<typeof effectiveSettings>) => Partial<ReturnType<typeof effectiveSettings>>): Promise<void> {
    await this.deps.uow.run(async (tx) => {
      const m = tx.manager;
      const current = effectiveSettings(await m.findOneBy(NotificationSetting, { userId: user.id }), user.kind);
      const { channels, delayMinutes, quietHours } = { ...current, ...next(current) };
      await m.save(NotificationSetting, {
        userId: user.id,
        email: channels.includes(NotificationChannel.EMAIL),
        push: channels.includes(NotificationChannel.PUSH),
        delayMinutes,
        quietStart: quietHours?.start ?? null,
        quietEnd: quietHours?.end ?? null,
        timeZone: quietHours?.timeZone ?? null,
      });
      await tx.audit({ actor: user, action: AuditAction.NotificationSettingsChanged, subjectUserId: user.id });
    });
  }
}

const decodedLength = (text: string) => (/^[A-Za-z0-9_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64url').length : -1);
