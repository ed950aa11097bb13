import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { isId } from '../../common/ids';
import { ErrorCode } from '../../errors';
import type { Context } from '../../request-context';
import type { AuditAction } from './audit-action';
import type { AuditService } from './audit.service';

const DENIALS: unknown[] = [ErrorCode.NotFound, ErrorCode.Forbidden];

/** What AuditDenials and recordingDenials need, one per server in its ResolverContainer (src/resolvers.ts). */
export class DenialRecorder {
  constructor(private readonly audit: Pick<AuditService, 'denied'>) {}

  /**
   * Runs `work`; when it is refused with NOT_FOUND or FORBIDDEN, records the
   * signed-in caller's attempt (DENIED, with the code and message) before the
   * refusal goes on to the client. If the record cannot be written, the
   * request fails with that error instead.
   */
  async recording<T>(context: Context, action: AuditAction, threadId: unknown, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const code = error instanceof GraphQLError ? error.extensions.code : undefined;
      if (context.viewer && DENIALS.includes(code)) {
        await this.audit.denied({
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
}

/** DenialRecorder.recording with the request's server's recorder. */
export const recordingDenials = <T>(context: Context, action: AuditAction, threadId: unknown, work: () => Promise<T>): Promise<T> =>
  context.container.get(DenialRecorder).recording(context, action, threadId, work);

/** recordingDenials for a root field whose thread is the argument `threadArg`. */
export const AuditDenials =
  (action: AuditAction, threadArg = 'threadId'): MiddlewareFn<Context> =>
  ({ context, args }, next) =>
    recordingDenials(context, action, args[threadArg], next);
