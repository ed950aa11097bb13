import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import proxyaddr from 'proxy-addr';
import type { App } from './app';
import { createLoaders, type Loaders } from './loaders';
import type { RequestOrigin } from './common/request-origin';
import type { Context } from './request-context';
import { resolversOf } from './resolvers';
import { TokenService } from './modules/auth/token.service';
import type { User } from './modules/users/user.entity';
import type { SignedIn } from './modules/users/user.service';

export type { Context } from './request-context';

/** Who sent a request, as the transport saw it. */
export interface ClientInfo extends RequestOrigin {
  /** The Authorization header (HTTP) or connection parameter (websocket). */
  authorization: unknown;
}

/** Decides, per hop, whether a proxy's X-Forwarded-For is believed (Express's compiled `trust proxy`). */
export type TrustProxy = (address: string, hop: number) => boolean;

/** The ClientInfo of an HTTP request, whose id the access log already gave it. */
export function clientInfo(request: IncomingMessage, trust: TrustProxy, authorization: unknown, requestId: string): ClientInfo {
  return { authorization, requestId, ...sourceOf(request, trust) };
}

/** Where a request came from: the client's address (through trusted proxies) and its user agent. */
export function sourceOf(request: IncomingMessage, trust: TrustProxy): Pick<RequestOrigin, 'ip' | 'userAgent'> {
  return { ip: proxyaddr(request, trust) ?? 'unknown', userAgent: request.headers['user-agent'] ?? null };
}

/**
 * Resolves `Authorization: Bearer <token>` to a user. A bad token does not fail
 * the request here: `login` must still work, so the error waits in `authError`.
 */
export async function buildContext(app: App, { authorization, ...client }: ClientInfo): Promise<Context> {
  let signedIn: SignedIn | null = null;
  let authError: GraphQLError | null = null;
  try {
    const token = TokenService.bearer(authorization);
    if (token) signedIn = await app.users.byToken(token);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    authError = error;
  }
  return viewerContext(app, signedIn?.user ?? null, client, authError, signedIn?.sessionId ?? null);
}

/**
 * The context of an operation run for `viewer` (one request, or one live
 * event's execution). Its loaders and read recorder are made on first use: a
 * subscription's own context, held while it lives, never needs them.
 */
export function viewerContext(app: App, viewer: User | null, client: RequestOrigin, authError: GraphQLError | null = null, sessionId: string | null = null): Context {
  let loaders: Loaders | undefined;
  let threadReads: Context['threadReads'] | undefined;
  return {
    viewer,
    sessionId,
    authError,
    container: resolversOf(app),
    client,
    get loaders() {
      return (loaders ??= createLoaders(app.db, viewer, { clock: app.clock }));
    },
    get threadReads() {
      return (threadReads ??= app.audit.readRecorder(viewer));
    },
  };
}
