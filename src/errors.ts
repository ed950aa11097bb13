import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { isRetryableContention } from './database/errors';
import type { Logger } from './logger';
import { currentOrigin } from './common/request-origin';

/** The error codes of contract.graphql, and two of ours that ask the client to wait and retry. */
export const ErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  BadUserInput: 'BAD_USER_INPUT',
  /**
   * Sign-in refused for a while after too many failures (`retryAfterSeconds` says how long),
   * or too many operations at once on one websocket (complete one first).
   */
  TooManyRequests: 'TOO_MANY_REQUESTS',
  /** The database stayed locked (by another process) too long; nothing was written, the request may be sent again. */
  DatabaseBusy: 'DATABASE_BUSY',
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
/** With `retryAfterSeconds`, also an HTTP 429 with Retry-After; without, the client must first end something it runs. */
export const tooManyRequests = (message: string, retryAfterSeconds?: number) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorCode.TooManyRequests,
      ...(retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds, http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } }),
    },
  });

/** The code of a masked error: an unexpected failure, logged with the request id the client is given. */
export const INTERNAL = 'INTERNAL_SERVER_ERROR';

/**
 * The codes of requests refused before they run, on both transports (the codes
 * Apollo Server used, kept for clients): graphql-js reports these errors without one.
 */
export const RequestErrorCode = {
  ParseFailed: 'GRAPHQL_PARSE_FAILED',
  ValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  /** The document has no operation of the name given (or several and no name). */
  OperationResolutionFailed: 'OPERATION_RESOLUTION_FAILURE',
  /** Not a GraphQL request at all (bad JSON, too large, not application/json, a batch, a mutation over GET, a subscription over HTTP). */
  BadRequest: 'BAD_REQUEST',
} as const;

/** The same error with `code` added; an error that already has a code keeps it. */
export function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * The one place that decides what a client sees of an error, for HTTP and websockets.
 * GraphQLErrors (ours, and graphql-js parse/validation/coercion errors) keep their
 * message and code; anything else is logged with its stack and masked, naming the
 * request id (the same as in X-Request-Id and on every log line of the request).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const { locations, path } = formatted;
  if (original instanceof ArgumentValidationError) {
    return { message: describeValidation(original), locations, path, extensions: { code: ErrorCode.BadUserInput } };
  }
  if (original instanceof GraphQLError) {
    // The pipeline has given its refusals a code. An error without one is a request error of
    // graphql-js's execution (a variable of the wrong type or missing), BAD_USER_INPUT.
    const code = formatted.extensions?.code ?? original.extensions?.code ?? ErrorCode.BadUserInput;
    const { retryAfterSeconds } = original.extensions;
    return { message: formatted.message, locations, path, extensions: { code, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) } };
  }
  // Masked: the request id is what the client can quote to find the logged cause.
  const requestId = currentOrigin()?.requestId;
  if (isRetryableContention(original)) {
    logger.warn({ err: original, path }, 'database busy');
    return { message: 'The database is busy; nothing was changed, send the request again', locations, path, extensions: { code: ErrorCode.DatabaseBusy, requestId } };
  }
  logger.error({ err: original, path }, 'unexpected error');
  return { message: 'Internal server error', locations, path, extensions: { code: INTERNAL, requestId } };
}

function describeValidation(error: ArgumentValidationError): string {
  // A validator that throws (validator.js's isEmail on a lone surrogate) leaves no list of errors.
  const errors: unknown = error.extensions.validationErrors;
  const messages = Array.isArray(errors) ? errors.flatMap((v: { constraints?: Record<string, string> }) => Object.values(v.constraints ?? {})) : [];
  return messages.length ? messages.join('; ') : 'Invalid input';
}

/**
 * The status and body for a request that failed before GraphQL could run: a body that is
 * not JSON, is over the size limit or has an unsupported encoding. Express's default
 * handler would answer with an HTML page that shows the stack trace outside production.
 * A client error keeps its 4xx status; anything else is logged and masked as a 500 naming `requestId`.
 */
export function httpError(error: unknown, logger: Logger, requestId: string): { status: number; body: { errors: GraphQLFormattedError[] } } {
  const { status, type, expose, message } = (error ?? {}) as { status?: unknown; type?: unknown; expose?: unknown; message?: unknown };
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const described =
      type === 'entity.parse.failed'
        ? 'The request body is not valid JSON'
        : type === 'entity.too.large'
          ? 'The request body is too large'
          : expose === true && typeof message === 'string'
            ? message
            : 'Bad request';
    return { status, body: { errors: [{ message: described, extensions: { code: RequestErrorCode.BadRequest } }] } };
  }
  logger.error({ err: error, requestId }, 'unexpected HTTP error');
  return { status: 500, body: { errors: [{ message: 'Internal server error', extensions: { code: INTERNAL, requestId } }] } };
}
