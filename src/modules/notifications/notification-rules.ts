import { DateTime, IANAZone } from 'luxon';
import { badUserInput } from '../../errors';
import { UserKind } from '../users/user-kind';
import { NotificationChannel } from './notification-channel';
import type { NotificationSetting } from './notification-setting.entity';
import { NotificationStage, type ScheduledNotification } from './scheduled-notification.entity';

/** How long a message waits unread before its recipient is told, by default: shorter for staff, who answer patients. */
export const DEFAULT_DELAY_MINUTES: Record<UserKind, number> = { [UserKind.PROFESSIONAL]: 5, [UserKind.PATIENT]: 15 };
export const MIN_DELAY_MINUTES = 1;
export const MAX_DELAY_MINUTES = 24 * 60;
/** After a notification, nothing more is sent for the same thread for this long (one digest, not one per message). */
export const WINDOW_MS = 60 * 60_000;
/** A patient who was told and has still not read it is reminded once, this long after. */
export const REMINDER_AFTER_MS = 24 * 3600_000;
/** Failed sends in a row before a notification is given up. With the backoff below: about ten hours. */
export const MAX_ATTEMPTS = 12;
/** How long a round holds the rows it took: longer than any send may take (SMTP and push time out well before). */
export const LEASE_MS = 2 * 60_000;

/** An account's settings as they apply: the stored row's, or the defaults. */
export interface EffectiveSettings {
  channels: NotificationChannel[];
  delayMinutes: number;
  quietHours: QuietHours | null;
}

export interface QuietHours {
  /** Local "HH:MM". */
  start: string;
  end: string;
  timeZone: string;
}

export function effectiveSettings(row: NotificationSetting | null, kind: UserKind): EffectiveSettings {
  if (!row) return { channels: [NotificationChannel.EMAIL, NotificationChannel.PUSH], delayMinutes: DEFAULT_DELAY_MINUTES[kind], quietHours: null };
  return {
    channels: [...(row.email ? [NotificationChannel.EMAIL] : []), ...(row.push ? [NotificationChannel.PUSH] : [])],
    delayMinutes: row.delayMinutes,
    quietHours: row.quietStart && row.quietEnd && row.timeZone ? { start: row.quietStart, end: row.quietEnd, timeZone: row.timeZone } : null,
  };
}

/** Seconds before retry `attempts` (1 for the first): one minute, doubling, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3600_000);
}

const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** BAD_USER_INPUT unless a delay in range, quiet hours of two distinct "HH:MM" times and a known IANA time zone. */
export function checkSettings(input: { delayMinutes?: number | null; quietHours?: QuietHours | null }): void {
  const delay = input.delayMinutes;
  if (delay !== undefined && delay !== null && !(Number.isInteger(delay) && delay >= MIN_DELAY_MINUTES && delay <= MAX_DELAY_MINUTES)) {
    throw badUserInput(`delayMinutes must be a whole number from ${MIN_DELAY_MINUTES} to ${MAX_DELAY_MINUTES}`);
  }
  const quiet = input.quietHours;
  if (!quiet) return;
  for (const [name, time] of [['start', quiet.start], ['end', quiet.end]] as const) {
    if (!CLOCK_TIME.test(time)) throw badUserInput(`quietHours.${name} must be a time of day as HH:MM (00:00 to 23:59)`);
  }
  if (quiet.start === quiet.end) throw badUserInput('quietHours.start and quietHours.end must differ');
  if (quiet.timeZone.length > 64 || !IANAZone.isValidZone(quiet.timeZone)) throw badUserInput('quietHours.timeZone must be an IANA time zone, such as Europe/London');
}

const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/**
 * When the quiet hours around `now` end, or null when `now` is outside them.
 * Local times in their zone: "22:00" to "07:00" spans midnight, and a day
 * whose clocks change keeps the hours as the wall clock shows them.
 */
export function quietUntil(now: Date, quiet: QuietHours | null): Date | null {
  if (!quiet) return null;
  const local = DateTime.fromJSDate(now, { zone: quiet.timeZone });
  const minute = local.hour * 60 + local.minute;
  const [start, end] = [minutesOf(quiet.start), minutesOf(quiet.end)];
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return null;
  let until = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (until <= local) until = until.plus({ days: 1 });
  return until.toJSDate();
}

/** What a due row's round found, read just before it decides. */
export interface DueFacts {
  /** Null once they left the thread. */
  participant: { viaTeamId: string | null } | null;
  disabled: boolean;
  /** Their settings' channels that this server and their account can use now (push: a browser registered). */
  channels: NotificationChannel[];
  settings: EffectiveSettings;
  /** The messages they have not read and may see, by others; null when there are none. */
  unread: { firstSeq: number; firstAt: Date; lastSeq: number } | null;
  /** The end of the absence they are in, when they are away. */
  awayUntil: Date | null;
  /** A live connection open on some instance: they see the message as it comes. */
  live: boolean;
}

export type Decision =
  | { act: 'drop' }
  | { act: 'later'; at: Date }
  | { act: 'send'; channels: NotificationChannel[]; reminder: boolean; throughSeq: number };

/**
 * What to do with a due row (scheduled-notification.entity.ts), by the rules:
 * nobody is told of what they read already (on any device), of a thread they
 * left, on a disabled account, or on no channel; at most once per WINDOW_MS a
 * thread; never while away, in quiet hours or connected (told later instead);
 * a patient's one reminder only if the message is still unread; after a
 * notification, members in through a team are told again only by an escalation.
 */
export function decide(row: Pick<ScheduledNotification, 'stage' | 'seq' | 'notifiedAt'>, facts: DueFacts, now: Date): Decision {
  const { unread } = facts;
  if (!facts.participant || facts.disabled || !unread || !facts.channels.length) return { act: 'drop' };
  const reminder = row.stage === NotificationStage.REMINDER;
  if (row.stage === NotificationStage.SENT && (unread.lastSeq <= row.seq || facts.participant.viaTeamId !== null)) return { act: 'drop' };
  const windowEnds = row.notifiedAt ? row.notifiedAt.getTime() + WINDOW_MS : 0;
  const unreadFor = unread.firstAt.getTime() + facts.settings.delayMinutes * 60_000;
  // A reminder waits for nothing more: the day it waited is its delay.
  const notBefore = reminder ? windowEnds : Math.max(windowEnds, unreadFor);
  if (notBefore > now.getTime()) return { act: 'later', at: new Date(notBefore) };
  if (facts.awayUntil) return { act: 'later', at: facts.awayUntil };
  const quiet = quietUntil(now, facts.settings.quietHours);
  if (quiet) return { act: 'later', at: quiet };
  if (facts.live) return { act: 'later', at: new Date(now.getTime() + facts.settings.delayMinutes * 60_000) };
  return { act: 'send', channels: facts.channels, reminder, throughSeq: unread.lastSeq };
}

/** Where a row goes once its notification went out: a patient's reminder a day later, else the window. */
export function afterSending(reminder: boolean, kind: UserKind, now: Date): { stage: NotificationStage; dueAt: Date } {
  if (!reminder && kind === UserKind.PATIENT) return { stage: NotificationStage.REMINDER, dueAt: new Date(now.getTime() + REMINDER_AFTER_MS) };
  return { stage: NotificationStage.SENT, dueAt: new Date(now.getTime() + WINDOW_MS) };
}
