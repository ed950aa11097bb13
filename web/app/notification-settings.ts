import { explain } from './api';
import { h } from './dom';
import type { NotificationChannel, NotificationSettings, NotificationSettingsInput, PushSubscriptionInput } from './operations';
import { deviceSubscription, PermissionRefused, pushSupported, subscribeDevice, unsubscribeDevice } from './push';

/** The API calls the view makes, each resolving to the settings as the server now holds them. */
export interface NotificationActions {
  save(input: NotificationSettingsInput): Promise<NotificationSettings>;
  registerDevice(subscription: PushSubscriptionInput): Promise<NotificationSettings>;
  removeDevice(endpoint: string): Promise<NotificationSettings>;
}

const CHANNELS: { channel: NotificationChannel; id: string; label: string; unavailable: string }[] = [
  { channel: 'EMAIL', id: 'notify-email', label: 'E-mail', unavailable: 'Not available: this server sends no e-mail, or your account has no e-mail address.' },
  { channel: 'PUSH', id: 'notify-push', label: 'Push', unavailable: 'Not available: this server does not send push notifications.' },
];

/**
 * "Notifications": which channels, how long a message waits unread first, and quiet hours,
 * saved together; and, when the server sends push (`pushPublicKey`), turning push on or off
 * on this device. What is shown is always what the server answered last.
 */
export function notificationSettings(settings: NotificationSettings, pushPublicKey: string | null, actions: NotificationActions): HTMLElement {
  let current = settings;
  const boxes = CHANNELS.map(({ channel, id, label, unavailable }) => {
    const reasonId = `${id}-reason`;
    const available = settings.available.includes(channel);
    const box = h('input', { id, type: 'checkbox', name: 'channels', value: channel, disabled: !available, 'aria-describedby': !available && reasonId });
    const row = h('div', { class: 'choice' }, box, h('label', { for: id }, label), !available && h('span', { id: reasonId, class: 'hint' }, unavailable));
    return { channel, available, box, row };
  });
  /** Shows the channels that will notify: one the server cannot send is unticked, whatever the setting. */
  const tick = (channels: NotificationChannel[]) => {
    for (const { channel, available, box } of boxes) box.checked = available && channels.includes(channel);
  };
  const delay = h('input', { id: 'notify-delay', name: 'delayMinutes', type: 'number', min: '1', max: '1440', step: '1', required: true, 'aria-describedby': 'notify-delay-hint' });
  const start = h('input', { id: 'quiet-start', name: 'quietStart', type: 'time' });
  const end = h('input', { id: 'quiet-end', name: 'quietEnd', type: 'time' });
  const zone = h('input', { id: 'quiet-zone', name: 'timeZone', list: 'time-zones', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'quiet-zone-hint' });
  const clear = h('button', { type: 'button' }, 'Clear quiet hours');
  const button = h('button', { type: 'submit' }, 'Save');
  const saved = h('p', { class: 'saved', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });

  const fill = (from: NotificationSettings) => {
    current = from;
    tick(from.channels);
    delay.value = String(from.delayMinutes);
    start.value = from.quietHours?.start ?? '';
    end.value = from.quietHours?.end ?? '';
    zone.value = from.quietHours?.timeZone ?? browserTimeZone();
  };
  fill(settings);
  clear.addEventListener('click', () => {
    start.value = '';
    end.value = '';
    saved.textContent = 'Quiet hours cleared here: Save to keep it.';
    start.focus();
  });

  // No browser validation: the server's own message says what is wrong with a value (e.g. a delay out of range).
  const form = h(
    'form',
    { class: 'notification-settings', novalidate: true, 'aria-labelledby': 'notifications-title' },
    h('fieldset', {}, h('legend', {}, 'Notify me by'), ...boxes.map((b) => b.row)),
    h('label', { for: 'notify-delay' }, 'Delay before notifying (minutes)'),
    delay,
    h('p', { id: 'notify-delay-hint', class: 'hint' }, 'How long a message waits unread before you are notified: 1 to 1440 minutes (24 hours).'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Quiet hours'),
      h('p', { class: 'hint' }, 'No notifications between these times. Leave both empty for none.'),
      h('label', { for: 'quiet-start' }, 'Quiet hours from'),
      start,
      h('label', { for: 'quiet-end' }, 'Quiet hours until'),
      end,
      h('label', { for: 'quiet-zone' }, 'Time zone'),
      zone,
      h('p', { id: 'quiet-zone-hint', class: 'hint' }, 'For example Europe/London.'),
      timeZoneList(),
      clear,
    ),
    button,
    saved,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saved.textContent = '';
    error.textContent = '';
    const input = readForm();
    if (typeof input === 'string') {
      error.textContent = input;
      return;
    }
    button.disabled = true;
    try {
      fill(await actions.save(input));
      saved.textContent = 'Notification settings saved.';
    } catch (failure) {
      error.textContent = explain(failure);
    } finally {
      button.disabled = false;
    }
  });

  /** The input to save, or what to tell the user when the form cannot be sent as it is. */
  function readForm(): NotificationSettingsInput | string {
    const delayMinutes = delay.valueAsNumber;
    if (!Number.isInteger(delayMinutes)) return 'Enter the delay as a whole number of minutes, from 1 to 1440.';
    // A channel the server cannot send keeps its setting, for when it can again.
    const channels = boxes.filter(({ channel, available, box }) => (available ? box.checked : current.channels.includes(channel))).map((b) => b.channel);
    const input: NotificationSettingsInput = { delayMinutes };
    if (channels.length !== current.channels.length || channels.some((c) => !current.channels.includes(c))) input.channels = channels;
    if (!start.value && !end.value) {
      if (current.quietHours) input.clearQuietHours = true;
    } else if (!start.value || !end.value) {
      return 'Give both times for quiet hours, or clear them.';
    } else {
      const timeZone = zone.value.trim();
      if (!timeZone) return 'Give the time zone of your quiet hours, for example Europe/London.';
      input.quietHours = { start: start.value, end: end.value, timeZone };
    }
    return input;
  }

  const device = pushPublicKey ? pushDevice(pushPublicKey, current, actions, (from) => {
    // Only the push parts: the rest of the form may hold edits not saved yet.
    current = { ...current, channels: from.channels, pushDevices: from.pushDevices };
    tick(from.channels);
  }) : null;
  return h('section', { class: 'settings', 'aria-labelledby': 'notifications-title' }, h('h2', { id: 'notifications-title', tabindex: '-1' }, 'Notifications'), form, device);
}

/**
 * Push on this device: consent and subscription on a click only, and turning it off again.
 * `changed` gets the server's settings after each change.
 */
function pushDevice(publicKey: string, settings: NotificationSettings, actions: NotificationActions, changed: (settings: NotificationSettings) => void): HTMLElement {
  const section = h('section', { class: 'push-device', 'aria-labelledby': 'push-device-title' }, h('h3', { id: 'push-device-title' }, 'This device'));
  if (!pushSupported()) {
    section.append(h('p', { class: 'hint' }, 'This browser cannot receive push notifications (it needs HTTPS, or a newer browser).'));
    return section;
  }
  const count = h('p', { class: 'hint' });
  const turnOn = h('button', { type: 'button', hidden: true }, 'Turn on notifications on this device');
  const turnOff = h('button', { type: 'button', hidden: true }, 'Turn off on this device');
  const state = h('p', { role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  section.append(count, turnOn, turnOff, state, error);

  const showCount = (devices: number) =>
    (count.textContent = devices ? `Push notifications are on for ${devices} ${devices === 1 ? 'device' : 'devices'} of yours.` : 'Push notifications are not on for any device of yours.');
  const show = (subscribed: boolean) => {
    turnOn.hidden = subscribed;
    turnOff.hidden = !subscribed;
  };
  const done = (from: NotificationSettings) => {
    showCount(from.pushDevices);
    changed(from);
  };
  showCount(settings.pushDevices);
  deviceSubscription().then(
    (subscription) => show(subscription !== null),
    () => show(false),
  );

  turnOn.addEventListener('click', async () => {
    turnOn.disabled = true;
    state.textContent = '';
    error.textContent = '';
    try {
      // Nothing awaited before it: subscribeDevice asks for permission first, while this click counts.
      let after = await actions.registerDevice(await subscribeDevice(publicKey));
      // Turning it on here says the user wants push: the channel goes on with it.
      if (!after.channels.includes('PUSH')) after = await actions.save({ channels: [...after.channels, 'PUSH'] });
      done(after);
      show(true);
      state.textContent = 'Notifications are on for this device.';
    } catch (failure) {
      error.textContent = failure instanceof PermissionRefused ? refusal(failure.permission) : failure instanceof DOMException ? browserFailure(failure) : explain(failure);
    } finally {
      turnOn.disabled = false;
    }
  });
  turnOff.addEventListener('click', async () => {
    turnOff.disabled = true;
    state.textContent = '';
    error.textContent = '';
    try {
      // This device first: whatever the server answers, it gets nothing more.
      const endpoint = await unsubscribeDevice();
      show(false);
      state.textContent = 'Notifications are off for this device.';
      if (endpoint) done(await actions.removeDevice(endpoint));
    } catch (failure) {
      error.textContent = failure instanceof DOMException ? browserFailure(failure) : explain(failure);
    } finally {
      turnOff.disabled = false;
    }
  });
  return section;
}

const refusal = (permission: NotificationPermission) =>
  permission === 'denied'
    ? 'Notifications are blocked for this site in your browser. Allow them in the site settings of your browser, then try again.'
    : 'Notifications were not allowed. Choose Allow when your browser asks.';

const browserFailure = (failure: DOMException) => `Your browser could not set up push notifications (${failure.message}). Try again later.`;

/** The browser's own zone, the default for new quiet hours. */
const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Suggestions for the time zone field; any IANA name may be typed, and the server checks it. */
function timeZoneList(): HTMLDataListElement {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    // An older browser: no suggestions.
  }
  return h('datalist', { id: 'time-zones' }, ...zones.map((value) => h('option', { value })));
}
