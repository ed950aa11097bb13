import { createClient, type Client } from 'graphql-ws';
import type { AttachmentFieldsFragment } from '../gql/graphql';

/** The API is served by the same server as this page, on one path for HTTP and websockets. */
export const GRAPHQL_PATH = '/graphql';

/** A failed upload: the server's message and extensions.code, NETWORK when the server was not reached, or ABORTED. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

interface GraphQLResponse {
  errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
}

/** Where files are uploaded, beside the API. */
const ATTACHMENTS_PATH = '/attachments';

/** An upload under way. */
export interface Upload {
  /** The stored file; rejects with an ApiError: the server's message and code for a refusal, NETWORK or ABORTED. */
  done: Promise<AttachmentFieldsFragment>;
  /** Stops sending: `done` rejects with ABORTED, and nothing is stored. */
  abort(): void;
}

/**
 * Uploads one file (POST /attachments, multipart part `file`) signed with
 * `token`, calling `progress` as its bytes are sent. XMLHttpRequest rather than
 * fetch: only it reports how much of a request body has been sent.
 */
export function upload(file: File, token: string, progress: (sent: number, total: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<AttachmentFieldsFragment>((resolve, reject) => {
    // Registered before send(): a browser reports upload progress only to listeners already there.
    xhr.upload.addEventListener('progress', (event) => progress(event.loaded, event.lengthComputable ? event.total : file.size));
    xhr.addEventListener('load', () => {
      const payload = xhr.response as (AttachmentFieldsFragment & GraphQLResponse) | null;
      const error = payload?.errors?.[0];
      if (xhr.status === 201 && payload?.id) resolve(payload);
      else if (error) reject(new ApiError(error.message, error.extensions?.code ?? 'INTERNAL_SERVER_ERROR', error.extensions?.retryAfterSeconds));
      else reject(new ApiError(`The server answered ${xhr.status} to the upload.`, 'INTERNAL_SERVER_ERROR'));
    });
    xhr.addEventListener('error', () => reject(new ApiError('The file did not reach the server. Check the connection and attach it again.', 'NETWORK')));
    xhr.addEventListener('abort', () => reject(new ApiError('The upload was stopped.', 'ABORTED')));
  });
  xhr.open('POST', ATTACHMENTS_PATH);
  xhr.responseType = 'json';
  xhr.setRequestHeader('authorization', `Bearer ${token}`);
  const form = new FormData();
  form.append('file', file, file.name);
  xhr.send(form);
  return { done, abort: () => xhr.abort() };
}

/** Server close code for a token that is bad, expired or revoked, or a disabled account; graphql-ws never retries it. */
const CLOSE_UNAUTHENTICATED = 4401;
const MAX_RETRY_WAIT_MS = 30_000;

export interface LiveEvents {
  /** Every (re)connection; `wasRetry` after a dropped one, when missed changes must be fetched. */
  connected(wasRetry: boolean): void;
  /** The connection dropped; it is retried. */
  disconnected(): void;
  /** The server refused the token: nothing more will arrive. */
  refused(): void;
}

/**
 * A graphql-ws client on this page's origin, signed with `token`. It connects
 * at once and retries dropped connections for as long as the page is open,
 * waiting up to 30 s between tries, except after a refused token (4401).
 */
export function liveClient(token: string, events: LiveEvents): Client {
  const url = new URL(GRAPHQL_PATH, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const refused = (event: unknown) => (event as CloseEvent | undefined)?.code === CLOSE_UNAUTHENTICATED;
  return createClient({
    url: url.href,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: Infinity,
    // Jittered, so that dashboards cut off together by a restart do not all come back at once.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS) * (0.5 + Math.random() / 2))),
    // Any failure, a server that cannot be reached included (graphql-ws retries only close events by
    // default); a refused token is never retried, whatever this says.
    shouldRetry: () => true,
    // The closed listener reports a lost connection; graphql-ws would also log it.
    onNonLazyError: () => undefined,
    on: {
      connected: (_socket, _payload, wasRetry) => events.connected(wasRetry),
      closed: (event) => (refused(event) ? events.refused() : events.disconnected()),
    },
  });
}
