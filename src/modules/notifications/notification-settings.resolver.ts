import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import type { NotificationSettingsService } from './notification-settings.service';
import { NotificationSettings, NotificationSettingsInput, PushSubscriptionInput } from './notification-settings.types';

@Resolver(() => NotificationSettings)
export class NotificationSettingsResolver {
  constructor(private readonly deps: { settings: NotificationSettingsService; pushPublicKey: string | null }) {}

  @Query(() => NotificationSettings, { description: "The viewer's own notification settings." })
  notificationSettings(@Viewer() viewer: User): Promise<NotificationSettings> {
    return this.deps.settings.of(viewer);
  }

  @Query(() => String, { nullable: true, description: "The server's VAPID public key (base64url), the applicationServerKey of pushManager.subscribe; null when it sends no Web Push. Signed-in users." })
  pushPublicKey(@Viewer() _viewer: User): string | null {
    return this.deps.pushPublicKey;
  }

  @Mutation(() => NotificationSettings, {
    description: 'Changes the viewer’s own settings; BAD_USER_INPUT (nothing changed) for a delay outside 1 to 1440 minutes, quiet hours not HH:MM or in an unknown time zone.',
  })
  updateNotificationSettings(@Viewer() viewer: User, @Arg('input', () => NotificationSettingsInput) input: NotificationSettingsInput): Promise<NotificationSettings> {
    return this.deps.settings.update(viewer, input);
  }

  @Mutation(() => NotificationSettings, {
    description: 'Registers this browser for Web Push on the viewer’s account (again: it moves to this account), until it is removed or the session that registered it is signed out (its mere expiry keeps it). BAD_USER_INPUT for an endpoint that is not https at a known push service (the server’s PUSH_SERVICE_HOSTS) or keys of the wrong size.',
  })
  registerPushSubscription(
    @Viewer() viewer: User,
    @Arg('subscription', () => PushSubscriptionInput) subscription: PushSubscriptionInput,
    @Ctx() ctx: Context,
  ): Promise<NotificationSettings> {
    return this.deps.settings.registerPush(viewer, ctx.sessionId, subscription);
  }

  @Mutation(() => NotificationSettings, { description: 'Stops Web Push to one of the viewer’s browsers; an endpoint that is not theirs changes nothing.' })
  removePushSubscription(@Viewer() viewer: User, @Arg('endpoint') endpoint: string): Promise<NotificationSettings> {
    return this.deps.settings.removePush(viewer, endpoint);
  }
}
