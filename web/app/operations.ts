// The GraphQL operations the dashboard sends, with the shapes of their results.
import type { SessionUser } from './session';

export interface ThreadSummary {
  id: string;
  subject: string;
  unreadCount: number;
}

/** A file on a message, or an upload waiting to be sent (POST /attachments answers the same fields, and its url). */
export interface Attachment {
  id: string;
  name: string;
  /** Decided by the server from the contents: image/jpeg, image/png, image/webp or application/pdf. */
  contentType: string;
  size: number;
  /** Pixels of the image as stored; null for a PDF. */
  width: number | null;
  height: number | null;
  /** For an image, a WebP data: URL of at most 160 px a side; null otherwise. */
  thumbnail: string | null;
}

export interface Message {
  id: string;
  threadId: string;
  /** Blank when the message carries attachments only. */
  body: string;
  createdAt: string;
  staffOnly: boolean;
  author: { id: string; name: string };
  attachments: Attachment[];
}

export interface ThreadDetail extends ThreadSummary {
  participants: { user: { id: string; name: string }; viaTeam: { name: string } | null }[];
}

export type TeamOption = { __typename: 'TeamRecipient'; team: { id: string; name: string }; reachCount: number };
export type UserOption = { __typename: 'UserRecipient'; user: { id: string; name: string; kind: SessionUser['kind'] } };
export type RecipientOption = TeamOption | UserOption;

export type RecipientInput = { teamId: string } | { userId: string };

export type ActivityKind =
  | 'ADDED_TO_THREAD'
  | 'PARTICIPANTS_CHANGED'
  | 'MESSAGE_ADDED'
  | 'LEFT_THREAD'
  | 'REMOVED_FROM_THREAD'
  | 'INBOX_CHANGED'
  | 'ESCALATED';

export interface ThreadActivity {
  kind: ActivityKind;
  threadId: string;
  thread: ThreadSummary | null;
  message: Message | null;
}

const USER = 'id name kind';
const SUMMARY = 'id subject unreadCount';
// No url: the page cannot send the bearer token with a link, so a download asks for ATTACHMENT_LINK.
const MESSAGE = 'id threadId body createdAt staffOnly author { id name } attachments { id name contentType size width height thumbnail }';

export const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { ${USER} } }
}`;
export type LoginResult = { login: { token: string; user: SessionUser } };

export const SIGN_OUT = `mutation SignOut { signOut }`;

export const ME = `query Me { me { ${USER} } }`;
export type MeResult = { me: SessionUser };

// No lastMessage preview: reading it is audited as reading the thread, and a list is not a read.
export const THREADS = `query Threads { threads(first: 50) { edges { node { ${SUMMARY} } } } }`;
export type ThreadsResult = { threads: { edges: { node: ThreadSummary }[] } };

export const THREAD = `query Thread($id: ID!, $after: String) {
  thread(id: $id) {
    ${SUMMARY}
    participants { user { id name } viaTeam { name } }
    messages(first: 100, after: $after) { edges { node { ${MESSAGE} } } pageInfo { hasNextPage endCursor } }
  }
}`;
export type ThreadResult = {
  thread:
    | (ThreadDetail & { messages: { edges: { node: Message }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } })
    | null;
};

export const MARK_READ = `mutation MarkRead($id: ID!) { markThreadRead(threadId: $id) { ${SUMMARY} } }`;
export type MarkReadResult = { markThreadRead: ThreadSummary };

export const RECIPIENTS = `query Recipients {
  recipients(first: 100) {
    __typename
    ... on TeamRecipient { team { id name } reachCount }
    ... on UserRecipient { user { ${USER} } }
  }
}`;
export type RecipientsResult = { recipients: RecipientOption[] };

export const CREATE_THREAD = `mutation CreateThread($subject: String!, $body: String!, $recipients: [RecipientInput!]!, $attachmentIds: [ID!]) {
  createThread(subject: $subject, body: $body, recipients: $recipients, attachmentIds: $attachmentIds) { id }
}`;
export type CreateThreadResult = { createThread: { id: string } };

export const SEND = `mutation Send($threadId: ID!, $body: String!, $clientMessageId: String, $attachmentIds: [ID!]) {
  sendMessage(threadId: $threadId, body: $body, clientMessageId: $clientMessageId, attachmentIds: $attachmentIds) { ${MESSAGE} }
}`;
export type SendResult = { sendMessage: Message };

/** A download link for a browser, valid 5 minutes: asked for when the download is, never ahead. */
export const ATTACHMENT_LINK = `query AttachmentLink($id: ID!) { attachmentLink(id: $id) { url } }`;
export type AttachmentLinkResult = { attachmentLink: { url: string } };

export const THREAD_ACTIVITY = `subscription Activity {
  threadActivity { kind threadId thread { ${SUMMARY} } message { ${MESSAGE} } }
}`;

export type NotificationChannel = 'EMAIL' | 'PUSH';
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}
export interface NotificationSettings {
  channels: NotificationChannel[];
  available: NotificationChannel[];
  delayMinutes: number;
  quietHours: QuietHours | null;
  pushDevices: number;
}
export interface NotificationSettingsInput {
  channels?: NotificationChannel[];
  delayMinutes?: number;
  quietHours?: QuietHours;
  clearQuietHours?: boolean;
}
/** PushSubscription.toJSON() without expirationTime, which the API does not take. */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const SETTINGS = 'channels available delayMinutes quietHours { start end timeZone } pushDevices';

export const NOTIFICATION_SETTINGS = `query NotificationSettings { notificationSettings { ${SETTINGS} } pushPublicKey }`;
export type NotificationSettingsResult = { notificationSettings: NotificationSettings; pushPublicKey: string | null };

export const UPDATE_NOTIFICATION_SETTINGS = `mutation UpdateNotificationSettings($input: NotificationSettingsInput!) {
  updateNotificationSettings(input: $input) { ${SETTINGS} }
}`;
export type UpdateNotificationSettingsResult = { updateNotificationSettings: NotificationSettings };

export const REGISTER_PUSH_SUBSCRIPTION = `mutation RegisterPushSubscription($subscription: PushSubscriptionInput!) {
  registerPushSubscription(subscription: $subscription) { ${SETTINGS} }
}`;
export type RegisterPushSubscriptionResult = { registerPushSubscription: NotificationSettings };

export const REMOVE_PUSH_SUBSCRIPTION = `mutation RemovePushSubscription($endpoint: String!) {
  removePushSubscription(endpoint: $endpoint) { ${SETTINGS} }
}`;
export type RemovePushSubscriptionResult = { removePushSubscription: NotificationSettings };
