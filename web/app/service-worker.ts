// The dashboard's service worker, served as /app/service-worker.js (scope /app/) and registered
// by push.ts only when the user turns notifications on. It shows push notifications and opens the
// dashboard when one is clicked; it caches nothing and sees no requests.
//
// Typechecked with the rest of web/ (DOM lib): the few service worker types it uses are declared
// here, module-local, since the DOM and WebWorker libs cannot share one program.

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
}
interface ServiceWorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly location: Location;
  readonly clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'push', listener: (event: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEvent) => void): void;
}
declare const self: ServiceWorkerScope;
// A module, so that the `self` above is this file's and not the page's global.
export {};

const APP_PATH = '/app';

/** What the server sends: generic text only, never a message's content. Anything else in it is ignored. */
interface Payload {
  title: string;
  body: string;
  url: string;
  tag?: string;
}

// Nothing to migrate between versions: a new worker takes over at once.
self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  const { title, body, url, tag } = payloadOf(event.data?.text());
  // Subscribed with userVisibleOnly: every push must show a notification, a malformed one included.
  event.waitUntil(self.registration.showNotification(title, { body, tag, data: { url } }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  event.waitUntil(openDashboard(sameOrigin(data?.url)));
});

function payloadOf(text: string | undefined): Payload {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text ?? '');
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON: the generic notification below.
  }
  const field = (key: string) => (typeof parsed[key] === 'string' && parsed[key] ? (parsed[key] as string) : undefined);
  return {
    title: field('title') ?? 'CareThread',
    body: field('body') ?? 'You have a new message.',
    url: sameOrigin(parsed.url),
    tag: field('tag'),
  };
}

/** `url` when it is on this origin, else the dashboard: a push never opens another site. */
function sameOrigin(url: unknown): string {
  const fallback = new URL(APP_PATH, self.location.origin).href;
  if (typeof url !== 'string') return fallback;
  try {
    const parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : fallback;
  } catch {
    return fallback;
  }
}

/** Focuses a dashboard already open in a window (the page /app is outside this worker's scope, hence uncontrolled), or opens `url`. */
async function openDashboard(url: string): Promise<unknown> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => {
    const { origin, pathname } = new URL(client.url);
    return origin === self.location.origin && (pathname === APP_PATH || pathname.startsWith(`${APP_PATH}/`));
  });
  return open ? open.focus() : self.clients.openWindow(url);
}
