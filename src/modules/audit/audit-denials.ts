import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import type { Context } from '../../context';
import { isId } from '../../common/ids';
import { ErrorCode } from '../../errors';
import type { AuditAction } from './audit-action';

const DENIALS: unknown[] = [ErrorCode.NotFound, ErrorCode.Forbidden];

/**
 * Runs `work`; when it is refused with NOT_FOUND or FORBIDDEN, records the
 * signed-in caller's attempt (DENIED, with the code and message) before the
 * refusal goes on to the client. If the record cannot be written, the
 * request fails with that error instead.
 */
export async function recordingDenials<T>(context: Context, action: AuditAction, threadId: unknown, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = error instanceof GraphQLError ? error.extensions.code : undefined;
    if (context.viewer && DENIALS.includes(code)) {
      await context.app.audit.denied({
        actor: context.viewer,
        action,
        // Only an id the server could have made: the rest (any text a client sends) names no thread.
        threadId: isId(threadId) ? threadId : null,
        denied: `${String(code)}: ${(error as GraphQLError).message}`,
      });
    }
    throw error;
  }
}

/** recordingDenials for a root field whose thread is the argument `threadArg`. */
export const AuditDenials =
  (action: AuditAction, threadArg = 'threadId'): MiddlewareFn<Context> =>
  ({ context, args }, next) =>
    recordingDenials(context, action, args[threadArg], next);
