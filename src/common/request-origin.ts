import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a request came from, as every audit event it causes records it. */
export interface RequestOrigin {
  requestId: string;
  ip: string;
  userAgent: string | null;
}

const storage = new AsyncLocalStorage<RequestOrigin>();

/**
 * Runs `work` (an HTTP request's handling, one graphql-ws operation) so that
 * the audit events it records name `origin`. Services need not pass it along.
 */
export function withOrigin<T>(origin: RequestOrigin, work: () => T): T {
  return storage.run(origin, work);
}

/** The origin of the running request; undefined outside one (start-up, the demo seed). */
export function currentOrigin(): RequestOrigin | undefined {
  return storage.getStore();
}
