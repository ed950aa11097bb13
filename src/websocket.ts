import type { Server } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Context } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from './app';
import { buildContext, clientInfo, type TrustProxy } from './context';
import { RequestErrorCode, withCode } from './errors';
import { costError, parseOptions, validationRules } from './graphql-limits';
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
  const wss = new WebSocketServer({ server, path, maxPayload: MAX_FRAME_BYTES });
  const websockets = useServer<{ authorization?: unknown }>(
    {
      schema,
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      // graphql-ws puts an unexpected error's message in the close reason unless it thinks
      // it runs in production; a client must never see internals, whatever NODE_ENV says.
      isProd: true,
      // A connection without a valid token is refused (4403) before any operation.
      onConnect: async (ctx) => {
        try {
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
        } catch (error) {
          app.logger.error({ err: error }, 'websocket connection failed');
          throw error; // graphql-ws closes the socket (4500); isProd keeps the reason generic
        }
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
        const invalid = validate(schema, document, rules);
        if (invalid.length) return invalid.map((e) => withCode(e, RequestErrorCode.ValidationFailed));
        const tooCostly = costError(schema, document, payload.variables ?? undefined, payload.operationName);
        if (tooCostly) return [tooCostly];
        try {
          // Subscriptions outlive requests: loaders batch but must not cache across events.
          const contextValue = await buildContext(app, client(ctx), { cache: false });
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
    wss,
  );
  // graphql-ws reports a socket error as an internal one, on the console with its stack. But a
  // socket errs only when its client breaks the protocol (a frame over maxPayload, bad UTF-8),
  // and ws has already closed it with the matching code (1009, 1007, ...): log it as the client's.
  wss.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => app.logger.info({ code: error.code, reason: error.message }, 'websocket closed: the client broke the protocol'));
  });
  const client = (ctx: Context<{ authorization?: unknown }, Extra>) => clientInfo(ctx.extra.request, trust, ctx.connectionParams?.authorization);
  return {
    dispose: async () => {
      await websockets.dispose();
      app.liveSessions.clear();
    },
  };
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
