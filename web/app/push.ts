// Web Push on this device: the service worker (web/app/service-worker.ts) and its push subscription.
import type { PushSubscriptionInput } from '../gql/graphql';

const WORKER_URL = '/app/service-worker.js';
/** The worker's default scope. The dashboard itself (/app) is outside it: push needs a registration, not a controlled page. */
const SCOPE = '/app/';

/** Whether this browser can take push subscriptions (service workers need a secure context: HTTPS or localhost). */
export const pushSupported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** Why the browser gave no permission: 'denied' (blocked, it will not ask again) or 'default' (the prompt was dismissed). */
export class PermissionRefused extends Error {
  constructor(readonly permission: NotificationPermission) {
    super(`notification permission: ${permission}`);
  }
}

/** This device's push subscription, or null. Registers nothing and asks nothing. */
export async function deviceSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration(SCOPE);
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * Asks for permission, registers the worker and subscribes with the server's VAPID key
 * (base64url). Call it straight from a click: browsers ask only on a user gesture.
 * Throws PermissionRefused, or the browser's error when its push service cannot be reached.
 */
export async function subscribeDevice(publicKey: string): Promise<PushSubscriptionInput> {
  // First, before any other await, while the click still counts as a gesture.
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new PermissionRefused(permission);
  const registration = await activeRegistration();
  const key = fromBase64Url(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // One made with an earlier key (the server's keys were changed) is useless, and subscribe() would refuse the new one.
  if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error('The browser gave a push subscription without its keys.');
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

/** Ends this device's subscription; resolves to its endpoint (for the server to forget), or null when there was none. */
export async function unsubscribeDevice(): Promise<string | null> {
  const subscription = await deviceSubscription();
  if (!subscription) return null;
  await subscription.unsubscribe();
  return subscription.endpoint;
}

/** The registration once its worker is active: subscribe() refuses a registration whose worker is still installing. */
async function activeRegistration(): Promise<ServiceWorkerRegistration> {
  const registration = await navigator.serviceWorker.register(WORKER_URL, { scope: SCOPE });
  const pending = registration.installing ?? registration.waiting;
  if (!registration.active && pending) await activated(pending);
  return registration;
}

function activated(worker: ServiceWorker): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (worker.state === 'activated') resolve();
      else if (worker.state === 'redundant') reject(new Error('The service worker could not be installed.'));
    };
    worker.addEventListener('statechange', check);
    check();
  });
}

/** The bytes of a base64url string (no padding), as PushManager.subscribe takes a VAPID key. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

function sameBytes(buffer: ArrayBuffer | null, bytes: Uint8Array): boolean {
  if (!buffer || buffer.byteLength !== bytes.length) return false;
  const other = new Uint8Array(buffer);
  return bytes.every((byte, i) => byte === other[i]);
}
