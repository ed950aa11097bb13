import type { CombinedError } from '@urql/core';
import { ApiError } from './api';

/** What to tell the user about a failed request or upload, by its extensions.code. */
export function explain(error: CombinedError | ApiError | undefined | null): string {
  if (!error) return '';
  const first = error instanceof ApiError ? null : error.graphQLErrors[0];
  const code = error instanceof ApiError ? error.code : first ? String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'NETWORK';
  const message = error instanceof ApiError ? error.message : (first?.message ?? '');
  switch (code) {
    case 'TOO_MANY_REQUESTS': {
      const wait = error instanceof ApiError ? error.retryAfterSeconds : (first?.extensions?.retryAfterSeconds as number | undefined);
      return `Too many attempts. Try again in ${wait ?? 60} seconds.`;
    }
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
