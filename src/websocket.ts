import type { Server } from 'node:http';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from './app';
import { buildContext } from './context';
import { RequestErrorCode, withCode } from './errors';
import { TokenService } from './modules/auth/token.service';

type Format = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * graphql-ws on the HTTP server's port and path. Returns its cleanup, which
 * closes every socket (the server's shutdown calls it after HTTP has drained).
 * Each accepted socket is tracked in app.liveSessions, which closes it (4403)
 * when its token expires or its account is disabled.
 */
export function serveWebsockets(server: Server, path: string, schema: GraphQLSchema, app: App, format: Format) {
  const websockets = useServer<{ authorization?: unknown }>(
    {
      schema,
      // graphql-ws puts an unexpected error's message in the close reason unless it thinks
      // it runs in production; a client must never see internals, whatever NODE_ENV says.
      isProd: true,
      // A connection without a valid token is refused (4403) before any operation.
      onConnect: async (ctx) => {
        try {
          const claims = await tokenClaims(app, ctx.connectionParams?.authorization);
          if (!claims) return false;
          // Tracked before the account is read, so that a disable committing in between still closes it.
          const session = app.liveSessions.track(claims.userId, claims.expiresAt, ctx.extra.socket);
          const context = await buildContext(app, ctx.connectionParams?.authorization);
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
          document = parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [withCode(error, RequestErrorCode.ParseFailed)];
          throw error;
        }
        const invalid = validate(schema, document);
        if (invalid.length) return invalid.map((e) => withCode(e, RequestErrorCode.ValidationFailed));
        try {
          // Subscriptions outlive requests: loaders batch but must not cache across events.
          const contextValue = await buildContext(app, ctx.connectionParams?.authorization, { cache: false });
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
    new WebSocketServer({ server, path }),
  );
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
