import './notification-settings.css';
import { useRef, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { NotificationSettingsDocument, UpdateNotificationSettingsDocument, type NotificationChannel, type NotificationSettingsInput, type SettingsFragment } from '../../gql/graphql';
import { explain } from '../errors';
import { PushDevice } from './settings/push-device';
import { FormOutcome } from './form-outcome';

const CHANNELS: { channel: NotificationChannel; id: string; label: string; unavailable: string }[] = [
  { channel: 'EMAIL', id: 'notify-email', label: 'E-mail', unavailable: 'Not available: this server sends no e-mail, or your account has no e-mail address.' },
  { channel: 'PUSH', id: 'notify-push', label: 'Push', unavailable: 'Not available: this server does not send push notifications.' },
];

/** The channels that will notify: one the server cannot send is unticked, whatever the setting. */
const ticked = (settings: SettingsFragment) => CHANNELS.map(({ channel }) => channel).filter((c) => settings.available.includes(c) && settings.channels.includes(c));

/** The browser's own zone, the default for new quiet hours. */
const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The form's fields as the server's settings fill them. */
const fieldsOf = (settings: SettingsFragment) => ({
  channels: ticked(settings),
  delay: String(settings.delayMinutes),
  start: settings.quietHours?.start ?? '',
  end: settings.quietHours?.end ?? '',
  zone: settings.quietHours?.timeZone ?? browserTimeZone(),
});
type Fields = ReturnType<typeof fieldsOf>;

/**
 * "Notifications": which channels, how long a message waits unread first, and quiet hours,
 * saved together; and, when the server sends push (`pushPublicKey`), turning push on or off
 * on this device.
 */
export function NotificationSettings() {
  // From the server, not the cache: the form starts from what the server holds.
  const [{ data, error }] = useQuery({ query: NotificationSettingsDocument, requestPolicy: 'network-only' });
  return (
    <section class="settings" aria-labelledby="notifications-title">
      <h2 id="notifications-title" tabindex={-1}>
        Notifications
      </h2>
      {data ? (
        <SettingsForm settings={data.notificationSettings} pushPublicKey={data.pushPublicKey} />
      ) : error ? (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      ) : (
        <p class="hint">Loading notification settings…</p>
      )}
    </section>
  );
}

/** `settings`: what the server answered last (the cache keeps the viewer's one copy current), which the form starts from. */
function SettingsForm({ settings, pushPublicKey }: { settings: SettingsFragment; pushPublicKey: string | null }) {
  const [fields, setFields] = useState(() => fieldsOf(settings));
  const [saved, setSaved] = useState('');
  const [problem, setProblem] = useState('');
  const [{ fetching }, update] = useMutation(UpdateNotificationSettingsDocument);
  const quietStart = useRef<HTMLInputElement>(null);
  const set = (changed: Partial<Fields>) => setFields((now) => ({ ...now, ...changed }));

  /** The input to save, or what to tell the user when the form cannot be sent as it is. */
  function readForm(): NotificationSettingsInput | string {
    // valueAsNumber's rule: an empty field is no number (Number('') would be 0).
    const delayMinutes = fields.delay.trim() ? Number(fields.delay) : NaN;
    if (!Number.isInteger(delayMinutes)) return 'Enter the delay as a whole number of minutes, from 1 to 1440.';
    // A channel the server cannot send keeps its setting, for when it can again.
    const channels = CHANNELS.map(({ channel }) => channel).filter((c) => (settings.available.includes(c) ? fields.channels.includes(c) : settings.channels.includes(c)));
    const input: NotificationSettingsInput = { delayMinutes };
    if (channels.length !== settings.channels.length || channels.some((c) => !settings.channels.includes(c))) input.channels = channels;
    if (!fields.start && !fields.end) {
      if (settings.quietHours) input.clearQuietHours = true;
    } else if (!fields.start || !fields.end) {
      return 'Give both times for quiet hours, or clear them.';
    } else {
      const timeZone = fields.zone.trim();
      if (!timeZone) return 'Give the time zone of your quiet hours, for example Europe/London.';
      input.quietHours = { start: fields.start, end: fields.end, timeZone };
    }
    return input;
  }

  async function submit(event: Event) {
    event.preventDefault();
    // Not disabled while saving: a disabled button would drop the keyboard's focus.
    if (fetching) return;
    setSaved('');
    setProblem('');
    const input = readForm();
    if (typeof input === 'string') return setProblem(input);
    const result = await update({ input });
    if (!result.data) return setProblem(explain(result.error));
    setFields(fieldsOf(result.data.updateNotificationSettings));
    setSaved('Notification settings saved.');
  }

  function clearQuietHours() {
    set({ start: '', end: '' });
    setSaved('Quiet hours cleared here: Save to keep it.');
    quietStart.current?.focus();
  }

  const toggle = (channel: NotificationChannel, on: boolean) =>
    setFields((now) => ({ ...now, channels: on ? [...now.channels, channel] : now.channels.filter((c) => c !== channel) }));

  return (
    <>
      {/* No browser validation: the server's own message says what is wrong with a value (e.g. a delay out of range). */}
      <form class="notification-settings" noValidate aria-labelledby="notifications-title" onSubmit={submit}>
        <fieldset>
          <legend>Notify me by</legend>
          {CHANNELS.map(({ channel, id, label, unavailable }) => {
            const available = settings.available.includes(channel);
            return (
              <div class="choice" key={channel}>
                <input
                  id={id}
                  type="checkbox"
                  name="channels"
                  value={channel}
                  disabled={!available}
                  aria-describedby={available ? undefined : `${id}-reason`}
                  checked={fields.channels.includes(channel)}
                  onChange={(e) => toggle(channel, e.currentTarget.checked)}
                />
                <label for={id}>{label}</label>
                {!available && (
                  <span id={`${id}-reason`} class="hint">
                    {unavailable}
                  </span>
                )}
              </div>
            );
          })}
        </fieldset>
        <label for="notify-delay">Delay before notifying (minutes)</label>
        <input
          id="notify-delay"
          name="delayMinutes"
          type="number"
          min="1"
          max="1440"
          step="1"
          required
          aria-describedby="notify-delay-hint"
          value={fields.delay}
          onInput={(e) => set({ delay: e.currentTarget.value })}
        />
        <p id="notify-delay-hint" class="hint">
          How long a message waits unread before you are notified: 1 to 1440 minutes (24 hours).
        </p>
        <fieldset>
          <legend>Quiet hours</legend>
          <p class="hint">No notifications between these times. Leave both empty for none.</p>
          <label for="quiet-start">Quiet hours from</label>
          <input id="quiet-start" ref={quietStart} name="quietStart" type="time" value={fields.start} onInput={(e) => set({ start: e.currentTarget.value })} />
          <label for="quiet-end">Quiet hours until</label>
          <input id="quiet-end" name="quietEnd" type="time" value={fields.end} onInput={(e) => set({ end: e.currentTarget.value })} />
          <label for="quiet-zone">Time zone</label>
          <input
            id="quiet-zone"
            name="timeZone"
            list="time-zones"
            autocomplete="off"
            spellcheck={false}
            aria-describedby="quiet-zone-hint"
            value={fields.zone}
            onInput={(e) => set({ zone: e.currentTarget.value })}
          />
          <p id="quiet-zone-hint" class="hint">
            For example Europe/London.
          </p>
          <TimeZoneList />
          <button type="button" onClick={clearQuietHours}>
            Clear quiet hours
          </button>
        </fieldset>
        <button type="submit">
          Save
        </button>
        <FormOutcome done={saved} problem={problem} />
      </form>
      {/* Only the push parts follow a device change: the rest of the form may hold edits not saved yet. */}
      {pushPublicKey && <PushDevice publicKey={pushPublicKey} settings={settings} changed={(after) => set({ channels: ticked(after) })} />}
    </>
  );
}

/** Suggestions for the time zone field; any IANA name may be typed, and the server checks it. */
function TimeZoneList() {
  const [zones] = useState(() => {
    try {
      return Intl.supportedValuesOf('timeZone');
    } catch {
      // An older browser: no suggestions.
      return [];
    }
  });
  return (
    <datalist id="time-zones">
      {zones.map((zone) => (
        <option key={zone} value={zone} />
      ))}
    </datalist>
  );
}
