import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { source, type Operation } from './graphql';

export interface Feed<T> {
  /** Everything received so far. */
  received: T[];
  errors: unknown[];
  /** Resolves once `count` items have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  close(): Promise<void>;
}

/** A graphql-ws client with a token, as a dashboard would open it. */
export function connect(wsUrl: string, token: string | null): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes and collects `next` payloads; pair with `untilSubscribed` before sending. */
export function subscribe<T = any, V = Record<string, unknown>>(client: Client, query: Operation<T, V>, variables?: V): Feed<T> {
  const received: T[] = [];
  const errors: unknown[] = [];
  let wake: () => void = () => undefined;
  const stop = client.subscribe<T>(
    { query: source(query), variables: variables as Record<string, unknown> | undefined },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) received.push(value.data as T);
        wake();
      },
      error: (error) => {
        errors.push(error);
        wake();
      },
      complete: () => wake(),
    },
  );
  return {
    received,
    errors,
    waitFor: (count, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${received.length} of ${count}; errors: ${JSON.stringify(errors)}`)), timeoutMs);
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received);
          } else wake = check;
        };
        check();
      }),
    close: async () => stop(),
  };
}

/** Polls until `check` holds (state that has no event to wait on, here or in another process); rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition not reached in time'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves once the server holds `count` live subscriptions. */
export const untilSubscribed = (server: { live: { size: number } }, count: number) => until(() => server.live.size >= count);

/** Resolves once the server holds `count` threadActivity subscriptions (dashboards). */
export const untilDashboards = untilSubscribed;

/** A new graphql-ws client for `token`, pushed on `clients` for the caller to dispose, subscribed to `query`: the feed, with its client. */
export function listen<T = any>(wsUrl: string, token: string, query: Operation<T>, clients: Client[]): Feed<T> & { client: Client } {
  const client = connect(wsUrl, token);
  clients.push(client);
  return { ...subscribe<T>(client, query), client };
}

/** Lets in-flight deliveries land before checking that something did NOT arrive. */
export async function settle(client: Client): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: reject, complete: resolve }),
  );
}

/** Runs one operation over graphql-ws and returns the errors it produced (from `next` or `error`). */
export function wsErrors(client: Client, query: string, variables?: Record<string, unknown>): Promise<{ errors: GraphQLFormattedError[]; raw: string }> {
  return new Promise((resolve, reject) => {
    const errors: GraphQLFormattedError[] = [];
    const payloads: unknown[] = [];
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          payloads.push(value);
          errors.push(...((value.errors ?? []) as GraphQLFormattedError[]));
        },
        error: (error) => {
          if (Array.isArray(error)) {
            payloads.push(error);
            errors.push(...error);
            resolve({ errors, raw: JSON.stringify(payloads) });
          } else reject(new Error(`the socket failed instead of an error message: ${describeClose(error)}`));
        },
        complete: () => resolve({ errors, raw: JSON.stringify(payloads) }),
      },
    );
  });
}

/** A client that holds one socket open (not lazy), and records every close. */
export function openClient(wsUrl: string, token: string): { client: Client; closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    // The closes are recorded below; graphql-ws would also print each to the console.
    onNonLazyError: () => undefined,
    on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
  });
  return { client, closes };
}

export const describeClose = (event: unknown) => {
  const { code, reason } = (event ?? {}) as { code?: number; reason?: string };
  return code ? `close ${code} ${reason}` : String(event);
};

/** How and when the server closed a socket. */
export interface Closed {
  code: number;
  reason: string;
  at: number;
}

/**
 * A dashboard's connection for `token` (lazy: it opens with its first
 * subscription), recording when and how the server closed it. The caller disposes of it.
 */
export function closingClient(wsUrl: string, token: string): { client: Client; closed: Promise<Closed> } {
  let resolveClosed: (closed: Closed) => void = () => undefined;
  const closed = new Promise<Closed>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        // A CloseEvent's fields are getters, so they are copied by name.
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason, at: Date.now() });
      },
    },
  });
  return { client, closed };
}

/** Resolves with the close, or rejects when the socket is still open after `timeoutMs`. */
export async function closedWithin(closed: Promise<Closed>, timeoutMs: number): Promise<Closed> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the socket was still open after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A graphql-ws client with the library's own retry rules (5 attempts, after close
 * events only, never after the codes it deems fatal), waiting 100 ms between
 * attempts instead of seconds: what an application gets unless it says otherwise.
 * `attempts` counts its connection attempts, `closes` the codes it was closed with.
 */
export function retryingClient(wsUrl: string, token: string): { client: Client; attempts: () => number; closes: number[] } {
  let attempts = 0;
  const closes: number[] = [];
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    on: {
      connecting: () => attempts++,
      closed: (event) => closes.push((event as { code: number }).code),
    },
  });
  return { client, attempts: () => attempts, closes };
}
