import type { Server } from 'node:http';
import { execute, GraphQLError, parse, specifiedRules, subscribe, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { App } from './app';
import { buildContext, clientInfo, type Context, type TrustProxy } from './context';
import { RequestErrorCode, withCode } from './errors';
import { costError, nulError, parseOptions, validationRules } from './graphql-limits';
import { serveGraphqlWs, type Extra } from './graphql-ws-adapter';
import { withOrigin } from './modules/audit/audit-origin';
import { TokenService } from './modules/auth/token.service';

type Format = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

export interface WebsocketOptions {
  path: string;
  schema: GraphQLSchema;
  app: App;
  format: Format;
  trust: TrustProxy;
}

/** Frames above this close the socket (1009): far above the largest valid message, far below what would strain memory. */
const MAX_FRAME_BYTES = 64 * 1024;
/** A socket that has not sent connection_init by then is closed (4408). */
const CONNECTION_INIT_TIMEOUT_MS = 3_000;
/** For a connection over the per-user limit: graphql-ws's "too many" code, which its client does not retry. */
const CLOSE_TOO_MANY_CONNECTIONS = 4429;

/**
 * graphql-ws on the HTTP server's port and path. Returns its cleanup, which
 * closes every socket (the server's shutdown calls it after HTTP has drained).
 * Each accepted socket is tracked in app.liveSessions, which closes it (4403)
 * when its token expires or its account is disabled. Operations meet the same
 * limits as over HTTP (graphql-limits.ts); Apollo's rules and plugins do not run here.
 */
export function serveWebsockets(server: Server, { path, schema, app, format, trust }: WebsocketOptions) {
  const rules = [...specifiedRules, ...validationRules(app.config.introspection)];
  const socketOf = new WeakMap<Context, WebSocket>();
  const wss = new WebSocketServer({ server, path, maxPayload: MAX_FRAME_BYTES });
  const websockets = serveGraphqlWs<{ authorization?: unknown }>(
    wss,
    {
      schema,
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      // Each operation runs as its own request for the audit trail (id, address, user agent).
      execute: (args) => withOrigin((args.contextValue as Context).client, () => execute(args)),
      subscribe: async (args) => {
        const result = await withOrigin((args.contextValue as Context).client, () => subscribe(args));
        const socket = socketOf.get(args.contextValue as Context);
        if (socket && Symbol.asyncIterator in result) endWithSocket(socket, result);
        return result;
      },
      // A connection without a valid token is refused (4403) before any operation.
      // A failure here closes the socket with 4500 and a generic reason (see serveGraphqlWs).
      onConnect: async (ctx) => {
        const claims = await tokenClaims(app, ctx.connectionParams?.authorization);
        if (!claims) return false;
        if (app.liveSessions.count(claims.userId) >= app.config.maxSocketsPerUser) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many open connections');
          return false;
        }
        // Tracked before the account is read, so that a disable committing in between still closes it.
        const session = app.liveSessions.track(claims.userId, claims.expiresAt, ctx.extra.socket);
        const context = await buildContext(app, client(ctx));
        return context.viewer !== null && session.open;
      },
      // Parsing, validation and the context happen here rather than inside graphql-ws so
      // that a syntax error, an invalid operation or a failing context reach the client as
      // formatted errors (with the codes Apollo uses over HTTP) instead of closing the socket.
      onSubscribe: async (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query, parseOptions);
        } catch (error) {
          if (error instanceof GraphQLError) return [withCode(error, RequestErrorCode.ParseFailed)];
          throw error;
        }
        let invalid: readonly GraphQLError[];
        try {
          invalid = validate(schema, document, rules);
        } catch (error) {
          // graphql-js's subscription rule throws on an @include whose variable is missing.
          if (error instanceof GraphQLError) return [withCode(error, RequestErrorCode.ValidationFailed)];
          throw error;
        }
        if (invalid.length) return invalid.map((e) => withCode(e, RequestErrorCode.ValidationFailed));
        const refused = nulError(document, payload.variables) ?? costError(schema, document, payload.variables ?? undefined, payload.operationName);
        if (refused) return [refused];
        try {
          // Subscriptions outlive requests: loaders batch but must not cache across events.
          const contextValue = await buildContext(app, client(ctx), { cache: false });
          socketOf.set(contextValue, ctx.extra.socket);
          return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
        } catch (error) {
          // formatError logs the original and masks it.
          return [new GraphQLError('Internal server error', { originalError: error instanceof Error ? error : new Error(String(error)) })];
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => format(e.toJSON(), e)),
    },
    app.logger,
  );
  const client = (ctx: WsContext<{ authorization?: unknown }, Extra>) => clientInfo(ctx.extra.request, trust, ctx.connectionParams?.authorization);
  return {
    dispose: async () => {
      await websockets.dispose();
      app.liveSessions.clear();
    },
  };
}

/**
 * Ends a subscription when its socket closes, whatever graphql-ws knows of it:
 * a client that completes an id and subscribes with it again before the first
 * subscription started leaves that one out of graphql-ws's books.
 */
function endWithSocket(socket: WebSocket, subscription: AsyncGenerator<unknown> | AsyncIterableIterator<unknown>): void {
  const end = () => void subscription.return?.(undefined);
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) end();
  else socket.once('close', end);
}

/** The user and expiry of a valid bearer token; null without one or for a bad one. */
async function tokenClaims(app: App, authorization: unknown): Promise<{ userId: string; expiresAt: Date } | null> {
  try {
    const token = TokenService.bearer(authorization);
    // buildContext verifies the token again: a signature check, no query.
    return token ? await app.tokens.verify(token) : null;
  } catch (error) {
    if (error instanceof GraphQLError) return null;
    throw error;
  }
}
