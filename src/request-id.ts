import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The id that names a request in logs, audit events and masked errors: the client's
 * X-Request-Id when it is a plain token of at most 64 characters (so a gateway's id
 * follows the request through), else a new UUID.
 */
export function requestIdOf(request: IncomingMessage): string {
  return givenRequestId(request) ?? randomUUID();
}

/** The client's X-Request-Id if it is one we keep, else null. */
export function givenRequestId(request: IncomingMessage): string | null {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : null;
}
