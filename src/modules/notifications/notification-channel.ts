import { registerEnumType } from 'type-graphql';

/** How someone is told that a secure message waits for them. */
export enum NotificationChannel {
  EMAIL = 'EMAIL',
  PUSH = 'PUSH',
}

registerEnumType(NotificationChannel, {
  name: 'NotificationChannel',
  description: 'EMAIL: to the account’s address, over SMTP. PUSH: Web Push to the browsers the account registered.',
});
