import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { NotificationChannel } from './notification-channel';

@ObjectType('QuietHours', { description: 'Local quiet hours: no notification starts between `start` and `end` (it waits for `end`).' })
export class QuietHoursType {
  @Field({ description: 'HH:MM, local time in timeZone.' })
  start!: string;

  @Field({ description: 'HH:MM, local time in timeZone; before start for hours across midnight, e.g. 22:00 to 07:00.' })
  end!: string;

  @Field({ description: 'An IANA time zone, e.g. Europe/London.' })
  timeZone!: string;
}

@ObjectType({ description: 'How the viewer is told that a secure message waits for them while they are away. No notification carries any of its content.' })
export class NotificationSettings {
  @Field(() => [NotificationChannel], { description: 'The channels they have on (both by default).' })
  channels!: NotificationChannel[];

  @Field(() => [NotificationChannel], { description: 'What this server can send: EMAIL when it has an SMTP server, PUSH when it has VAPID keys.' })
  available!: NotificationChannel[];

  @Field(() => Int, { description: 'Minutes a message waits unread, with no live connection of theirs, before they are told: 1 to 1440 (default 5 for professionals, 15 for patients).' })
  delayMinutes!: number;

  @Field(() => QuietHoursType, { nullable: true })
  quietHours!: QuietHoursType | null;

  @Field(() => Int, { description: 'Browsers registered for Web Push on this account.' })
  pushDevices!: number;
}

@InputType()
export class QuietHoursInput {
  @Field()
  start!: string;

  @Field()
  end!: string;

  @Field()
  timeZone!: string;
}

@InputType({ description: 'Only the fields given change.' })
export class NotificationSettingsInput {
  @Field(() => [NotificationChannel], { nullable: true, description: 'The channels to have on; [] turns notifications off.' })
  channels?: NotificationChannel[] | null;

  @Field(() => Int, { nullable: true })
  delayMinutes?: number | null;

  @Field(() => QuietHoursInput, { nullable: true })
  quietHours?: QuietHoursInput | null;

  @Field(() => Boolean, { nullable: true, description: 'True removes the quiet hours (not with quietHours).' })
  clearQuietHours?: boolean | null;
}

@InputType()
export class PushKeysInput {
  @Field({ description: "The browser's P-256 public key, base64url (65 bytes)." })
  p256dh!: string;

  @Field({ description: "The browser's authentication secret, base64url (16 bytes)." })
  auth!: string;
}

@InputType({ description: "A browser's push subscription: PushSubscription.toJSON() without expirationTime." })
export class PushSubscriptionInput {
  @Field({ description: "The push service's https:// URL for this browser." })
  endpoint!: string;

  @Field(() => PushKeysInput)
  keys!: PushKeysInput;
}
