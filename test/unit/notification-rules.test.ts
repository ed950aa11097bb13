import { NotificationChannel } from '../../src/modules/notifications/notification-channel';
import {
  afterSending,
  backoffMs,
  checkSettings,
  decide,
  effectiveSettings,
  quietUntil,
  REMINDER_AFTER_MS,
  WINDOW_MS,
  type DueFacts,
} from '../../src/modules/notifications/notification-rules';
import { NotificationStage } from '../../src/modules/notifications/scheduled-notification.entity';
import { UserKind } from '../../src/modules/users/user-kind';

// When a due notification is sent, held or dropped (notifier.ts acts on it), and the settings' own rules.

const MINUTE = 60_000;
const now = new Date('2026-03-02T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const settings = effectiveSettings(null, UserKind.PROFESSIONAL);
const facts = (over: Partial<DueFacts> = {}): DueFacts => ({
  participant: { viaTeamId: null },
  disabled: false,
  channels: [NotificationChannel.EMAIL],
  settings,
  unread: { firstSeq: 3, firstAt: ago(10 * MINUTE), lastSeq: 4 },
  awayUntil: null,
  live: false,
  ...over,
});
const waiting = { stage: NotificationStage.WAITING, seq: 3, notifiedAt: null };

test('defaults: both channels, 5 minutes for professionals and 15 for patients, no quiet hours', () => {
  expect(settings).toEqual({ channels: ['EMAIL', 'PUSH'], delayMinutes: 5, quietHours: null });
  expect(effectiveSettings(null, UserKind.PATIENT).delayMinutes).toBe(15);
});

test('an unread message past the delay, on a channel, to someone not connected: sent, through the last unread', () => {
  expect(decide(waiting, facts(), now)).toEqual({ act: 'send', channels: ['EMAIL'], reminder: false, throughSeq: 4 });
});

test('dropped: read (on any device), left the thread, disabled, or no channel to send on', () => {
  for (const change of [{ unread: null }, { participant: null }, { disabled: true }, { channels: [] }]) {
    expect([change, decide(waiting, facts(change), now)]).toEqual([change, { act: 'drop' }]);
  }
});

test('held: until the first unread message has waited the delay (a first one read since, the next one counts)', () => {
  const unread = { firstSeq: 4, firstAt: ago(2 * MINUTE), lastSeq: 4 };
  expect(decide(waiting, facts({ unread }), now)).toEqual({ act: 'later', at: new Date(now.getTime() + 3 * MINUTE) });
});

test('held: away until back, in quiet hours until they end, connected for another delay', () => {
  const back = new Date(now.getTime() + 3 * 3600_000);
  expect(decide(waiting, facts({ awayUntil: back }), now)).toEqual({ act: 'later', at: back });
  const quiet = { ...settings, quietHours: { start: '11:00', end: '13:30', timeZone: 'UTC' } };
  expect(decide(waiting, facts({ settings: quiet }), now)).toEqual({ act: 'later', at: new Date('2026-03-02T13:30:00Z') });
  expect(decide(waiting, facts({ live: true }), now)).toEqual({ act: 'later', at: new Date(now.getTime() + 5 * MINUTE) });
});

test('one per window: a notification within the hour after the last waits for its end', () => {
  const told = { ...waiting, notifiedAt: ago(20 * MINUTE) };
  expect(decide(told, facts(), now)).toEqual({ act: 'later', at: new Date(now.getTime() + 40 * MINUTE) });
});

test('after the window: told again only of messages since, and never members in through a team (their escalation tells them)', () => {
  const sent = { stage: NotificationStage.SENT, seq: 4, notifiedAt: ago(WINDOW_MS) };
  expect(decide(sent, facts(), now)).toEqual({ act: 'drop' });
  expect(decide({ ...sent, seq: 3 }, facts(), now)).toMatchObject({ act: 'send', reminder: false, throughSeq: 4 });
  expect(decide({ ...sent, seq: 3 }, facts({ participant: { viaTeamId: 'team-1' } }), now)).toEqual({ act: 'drop' });
});

test('a reminder goes at its time whatever the delay, only while something is unread', () => {
  const reminder = { stage: NotificationStage.REMINDER, seq: 4, notifiedAt: ago(REMINDER_AFTER_MS) };
  const unread = { firstSeq: 4, firstAt: ago(MINUTE), lastSeq: 4 };
  expect(decide(reminder, facts({ unread }), now)).toMatchObject({ act: 'send', reminder: true });
  expect(decide(reminder, facts({ unread: null }), now)).toEqual({ act: 'drop' });
});

test('after sending: a patient’s first notification waits a day for its reminder; everything else waits out the window', () => {
  expect(afterSending(false, UserKind.PATIENT, now)).toEqual({ stage: NotificationStage.REMINDER, dueAt: new Date(now.getTime() + REMINDER_AFTER_MS) });
  expect(afterSending(true, UserKind.PATIENT, now)).toEqual({ stage: NotificationStage.SENT, dueAt: new Date(now.getTime() + WINDOW_MS) });
  expect(afterSending(false, UserKind.PROFESSIONAL, now)).toEqual({ stage: NotificationStage.SENT, dueAt: new Date(now.getTime() + WINDOW_MS) });
});

test('backoff: a minute, doubling, at most an hour', () => {
  expect([1, 2, 3, 6, 7, 12].map(backoffMs)).toEqual([1, 2, 4, 32, 60, 60].map((m) => m * MINUTE));
});

test('quiet hours: across midnight, outside them, and in the zone’s wall-clock time across a change of the clocks', () => {
  const night = { start: '22:00', end: '07:00', timeZone: 'Europe/London' };
  expect(quietUntil(new Date('2026-01-10T23:30:00Z'), night)).toEqual(new Date('2026-01-11T07:00:00Z'));
  expect(quietUntil(new Date('2026-01-11T06:59:00Z'), night)).toEqual(new Date('2026-01-11T07:00:00Z'));
  expect(quietUntil(new Date('2026-01-11T07:00:00Z'), night)).toBeNull();
  expect(quietUntil(new Date('2026-01-11T12:00:00Z'), night)).toBeNull();
  // The clocks go forward in London on 29 March 2026: 07:00 local is 06:00 UTC that morning.
  expect(quietUntil(new Date('2026-03-28T23:00:00Z'), night)).toEqual(new Date('2026-03-29T06:00:00Z'));
  expect(quietUntil(now, null)).toBeNull();
});

test('settings refused: a delay out of 1 to 1440 or not whole, a time not HH:MM, equal start and end, an unknown zone', () => {
  const bad = [
    { delayMinutes: 0 },
    { delayMinutes: 1441 },
    { delayMinutes: 2.5 },
    { quietHours: { start: '7:00', end: '08:00', timeZone: 'UTC' } },
    { quietHours: { start: '24:00', end: '08:00', timeZone: 'UTC' } },
    { quietHours: { start: '08:00', end: '08:00', timeZone: 'UTC' } },
    { quietHours: { start: '22:00', end: '07:00', timeZone: 'Not/AZone' } },
  ];
  for (const input of bad) expect(() => checkSettings(input)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  expect(() => checkSettings({ delayMinutes: 1, quietHours: { start: '22:00', end: '07:00', timeZone: 'America/New_York' } })).not.toThrow();
  expect(() => checkSettings({ delayMinutes: 1440 })).not.toThrow();
});
