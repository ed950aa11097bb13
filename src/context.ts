import type { IncomingMessage } from 'node:http';
import type DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import proxyaddr from 'proxy-addr';
import type { App } from './app';
import { unauthenticated } from './errors';
import { createLoaders, type Loaders } from './loaders';
import type { RequestOrigin } from './modules/audit/audit-origin';
import { requestIdOf } from './request-id';
import { TokenService } from './modules/auth/token.service';
import { User } from './modules/users/user.entity';

/** Who sent a request, as the transport saw it. */
export interface ClientInfo extends RequestOrigin {
  /** The Authorization header (HTTP) or connection parameter (websocket). */
  authorization: unknown;
}

/** Per request (HTTP) or per subscription (websocket). */
export interface Context {
  /** The signed-in individual; null without a token. */
  viewer: User | null;
  /** Why a token that was sent was refused; raised by the first resolver that needs a viewer. */
  authError: GraphQLError | null;
  app: App;
  client: Omit<ClientInfo, 'authorization'>;
  loaders: Loaders;
  /** Records THREAD_READ once per thread per request; see AuditService.readRecorder. */
  threadReads: DataLoader<string, true>;
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
  return { viewer, authError, app, client, loaders: createLoaders(app.db, viewer, { ...options, clock: app.clock }), threadReads: app.audit.readRecorder(viewer) };
}

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(context: Context): User {
  if (context.authError) throw context.authError;
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
}
