import type { CombinedError } from '@urql/core';
import { ApiError } from './api';

/** The code, message and wait of a failed request or upload: a GraphQL error's, or NETWORK when no server answered. */
function described(error: CombinedError | ApiError): { code: string; message: string; retryAfterSeconds?: number } {
  if (error instanceof ApiError) return error;
  const first = error.graphQLErrors[0];
  if (!first) return { code: 'NETWORK', message: '' };
  return { code: String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR'), message: first.message, retryAfterSeconds: first.extensions?.retryAfterSeconds as number | undefined };
}

/** The extensions.code of a failed request or upload (NETWORK when no server answered). */
export const codeOf = (error: CombinedError | ApiError) => described(error).code;

/** What to tell the user about a failed request or upload, by its extensions.code. */
export function explain(error: CombinedError | ApiError | undefined | null): string {
  if (!error) return '';
  const { code, message, retryAfterSeconds } = described(error);
  switch (code) {
    case 'TOO_MANY_REQUESTS':
      return `Too many attempts. Try again in ${retryAfterSeconds ?? 60} seconds.`;
    case 'NOT_FOUND':
      return 'This is not available to you any more.';
    case 'FORBIDDEN':
      return 'You are not allowed to do that.';
    case 'DATABASE_BUSY':
      return 'The server is busy and saved nothing. Try again.';
    case 'BAD_USER_INPUT':
    case 'UNAUTHENTICATED':
    case 'ABORTED':
      // These messages say what to change.
      return message;
    case 'NETWORK':
      return message || 'The server cannot be reached. Check the connection and try again.';
    default:
      return 'Something went wrong on the server. Try again.';
  }
}
