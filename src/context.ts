import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import proxyaddr from 'proxy-addr';
import type { App } from './app';
import { createLoaders } from './loaders';
import type { RequestOrigin } from './common/request-origin';
import type { Context } from './request-context';
import { requestIdOf } from './request-id';
import { resolversOf } from './resolvers';
import { TokenService } from './modules/auth/token.service';
import type { User } from './modules/users/user.entity';

export type { Context } from './request-context';

/** Who sent a request, as the transport saw it. */
export interface ClientInfo extends RequestOrigin {
  /** The Authorization header (HTTP) or connection parameter (websocket). */
  authorization: unknown;
}

/** Decides, per hop, whether a proxy's X-Forwarded-For is believed (Express's compiled `trust proxy`). */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * The ClientInfo of an HTTP request (whose id the access log already gave it), or of
 * one operation on a websocket (from its upgrade request, with an id of its own).
 */
export function clientInfo(request: IncomingMessage, trust: TrustProxy, authorization: unknown, requestId = requestIdOf(request)): ClientInfo {
  return {
    authorization,
    requestId,
    ip: proxyaddr(request, trust) ?? 'unknown',
    userAgent: request.headers['user-agent'] ?? null,
  };
}

/**
 * Resolves `Authorization: Bearer <token>` to a user. A bad token does not fail
 * the request here: `login` must still work, so the error waits in `authError`.
 */
export async function buildContext(app: App, { authorization, ...client }: ClientInfo, options = { cache: true }): Promise<Context> {
  let viewer: User | null = null;
  let authError: GraphQLError | null = null;
  try {
    const token = TokenService.bearer(authorization);
    if (token) viewer = await app.users.byToken(token);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    authError = error;
  }
  return {
    viewer,
    authError,
    container: resolversOf(app),
    client,
    loaders: createLoaders(app.db, viewer, { ...options, clock: app.clock }),
    threadReads: app.audit.readRecorder(viewer),
  };
}
