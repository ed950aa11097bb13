import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import type { Logger } from './logger';

/** The error codes of contract.graphql; nothing else is raised on purpose. */
export const ErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

function domainError(code: ErrorCodeValue, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

export const unauthenticated = (message = 'Sign in to use this operation') =>
  domainError(ErrorCode.Unauthenticated, message);
export const forbidden = (message: string) => domainError(ErrorCode.Forbidden, message);
/** Also used when the object exists but the caller may not see it, so both look alike. */
export const notFound = (what: string) => domainError(ErrorCode.NotFound, `${what} not found`);
export const badUserInput = (message: string) => domainError(ErrorCode.BadUserInput, message);

const INTERNAL = 'INTERNAL_SERVER_ERROR';

/**
 * The one place that decides what a client sees of an error, for HTTP and websockets.
 * GraphQLErrors (ours, and graphql-js parse/validation/coercion errors) keep their
 * message and code; anything else is logged with its stack and masked.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const { locations, path } = formatted;
  if (original instanceof ArgumentValidationError) {
    return { message: describeValidation(original), locations, path, extensions: { code: ErrorCode.BadUserInput } };
  }
  if (original instanceof GraphQLError) {
    const code = formatted.extensions?.code ?? original.extensions?.code;
    return { message: formatted.message, locations, path, extensions: code ? { code } : undefined };
  }
  logger.error({ err: original, path }, 'unexpected error');
  return { message: 'Internal server error', locations, path, extensions: { code: INTERNAL } };
}

function describeValidation(error: ArgumentValidationError): string {
  const messages = error.extensions.validationErrors.flatMap((v) => Object.values(v.constraints ?? {}));
  return messages.length ? messages.join('; ') : 'Invalid input';
}
