import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { RegisterPushSubscriptionDocument, RemovePushSubscriptionDocument, UpdateNotificationSettingsDocument, type SettingsFragment } from '../../../gql/graphql';
import { explain } from '../../errors';
import { deviceSubscription, PermissionRefused, pushSupported, subscribeDevice, unsubscribeDevice } from '../../push';
import { FormOutcome } from '../form-outcome';

/** A mutation's data, or its error thrown: the steps below run in sequence and stop at the first failure. */
function dataOf<T>(result: { data?: T; error?: Parameters<typeof explain>[0] }): T {
  if (!result.data) throw result.error;
  return result.data;
}

const refusal = (permission: NotificationPermission) =>
  permission === 'denied'
    ? 'Notifications are blocked for this site in your browser. Allow them in the site settings of your browser, then try again.'
    : 'Notifications were not allowed. Choose Allow when your browser asks.';

const browserFailure = (failure: DOMException) => `Your browser could not set up push notifications (${failure.message}). Try again later.`;

const explainFailure = (failure: unknown) =>
  failure instanceof PermissionRefused ? refusal(failure.permission) : failure instanceof DOMException ? browserFailure(failure) : explain(failure as Parameters<typeof explain>[0]);

const deviceCount = (devices: number) =>
  devices ? `Push notifications are on for ${devices} ${devices === 1 ? 'device' : 'devices'} of yours.` : 'Push notifications are not on for any device of yours.';

/**
 * Push on this device: consent and subscription on a click only, and turning it off again.
 * `changed` gets the server's settings after each change.
 */
export function PushDevice({ publicKey, settings, changed }: { publicKey: string; settings: SettingsFragment; changed: (settings: SettingsFragment) => void }) {
  return (
    <section class="push-device" aria-labelledby="push-device-title">
      <h3 id="push-device-title">This device</h3>
      {pushSupported() ? (
        <DeviceSwitch publicKey={publicKey} settings={settings} changed={changed} />
      ) : (
        <p class="hint">This browser cannot receive push notifications (it needs HTTPS, or a newer browser).</p>
      )}
    </section>
  );
}

function DeviceSwitch({ publicKey, settings, changed }: { publicKey: string; settings: SettingsFragment; changed: (settings: SettingsFragment) => void }) {
  /** Whether this browser holds a subscription; null until asked. */
  const [subscribed, setSubscribed] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [state, setState] = useState('');
  const [problem, setProblem] = useState('');
  const [, register] = useMutation(RegisterPushSubscriptionDocument);
  const [, remove] = useMutation(RemovePushSubscriptionDocument);
  const [, update] = useMutation(UpdateNotificationSettingsDocument);
  const turnOn = useRef<HTMLButtonElement>(null);
  const turnOff = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    deviceSubscription().then(
      (subscription) => setSubscribed(subscription !== null),
      () => setSubscribed(false),
    );
  }, []);

  /** Set by a click: once it is done, focus goes to the button then shown (a disabled or hidden one drops it). */
  const refocus = useRef(false);
  useEffect(() => {
    if (busy || !refocus.current) return;
    refocus.current = false;
    (subscribed ? turnOff : turnOn).current?.focus();
  }, [busy, subscribed]);

  const start = () => {
    refocus.current = true;
    setBusy(true);
    setState('');
    setProblem('');
  };

  async function on() {
    start();
    try {
      // Nothing awaited before it: subscribeDevice asks for permission first, while this click counts.
      let after = dataOf(await register({ subscription: await subscribeDevice(publicKey) })).registerPushSubscription;
      // Turning it on here says the user wants push: the channel goes on with it.
      if (!after.channels.includes('PUSH')) after = dataOf(await update({ input: { channels: [...after.channels, 'PUSH'] } })).updateNotificationSettings;
      changed(after);
      setSubscribed(true);
      setState('Notifications are on for this device.');
    } catch (failure) {
      setProblem(explainFailure(failure));
    } finally {
      setBusy(false);
    }
  }

  async function off() {
    start();
    try {
      // This device first: whatever the server answers, it gets nothing more.
      const endpoint = await unsubscribeDevice();
      setSubscribed(false);
      setState('Notifications are off for this device.');
      if (endpoint) changed(dataOf(await remove({ endpoint })).removePushSubscription);
    } catch (failure) {
      setProblem(explainFailure(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p class="hint">{deviceCount(settings.pushDevices)}</p>
      <button type="button" ref={turnOn} hidden={subscribed !== false} disabled={busy} onClick={on}>
        Turn on notifications on this device
      </button>
      <button type="button" ref={turnOff} hidden={subscribed !== true} disabled={busy} onClick={off}>
        Turn off on this device
      </button>
      <FormOutcome done={state} problem={problem} />
    </>
  );
}
