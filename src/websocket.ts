import type { Server } from 'node:http';
import { execute, GraphQLError, parse, specifiedRules, subscribe, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { App } from './app';
import { buildContext, clientInfo, type Context, type TrustProxy } from './context';
import { RequestErrorCode, tooManyRequests, withCode } from './errors';
import { costError, nulError, parseOptions, validationRules } from './graphql-limits';
import { serveGraphqlWs, type Extra } from './graphql-ws-adapter';
import { describeOperation, describeQuery, UNKNOWN_OPERATION } from './metrics/operation-labels';
import { withOrigin } from './modules/audit/audit-origin';
import type { BearerIdentity } from './modules/auth/bearer-identity';
import { TokenService } from './modules/auth/token.service';
import { SocketSubscriptions } from './socket-subscriptions';

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
 * Operations one socket may run at once, live subscriptions included: each holds a listener
 * that every event meets. A dashboard needs one; more is refused (TOO_MANY_REQUESTS) until one ends.
 */
export const MAX_OPERATIONS_PER_SOCKET = 100;

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
  const subscriptions = new SocketSubscriptions();
  const wss = new WebSocketServer({ server, path, maxPayload: MAX_FRAME_BYTES });
  app.metrics.countWebsocketsWith(() => wss.clients.size);
  const websockets = serveGraphqlWs<{ authorization?: unknown }>(
    wss,
    {
      schema,
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      // Each operation runs as its own request for the audit trail (id, address, user agent).
      execute: (args) => withOrigin((args.contextValue as Context).client, () => execute(args)),
      subscribe: async (args) => {
        const result = await withOrigin((args.contextValue as Context).client, () => subscribe(args));
        if (!(Symbol.asyncIterator in result)) return result;
        // Validation left exactly one root field.
        const tracked = app.metrics.trackSubscription(describeOperation(schema, args.document, args.operationName).fields[0], result);
        // onSubscribe made the context, and noted its socket.
        return subscriptions.add(socketOf.get(args.contextValue as Context)!, tracked);
      },
      // A connection without a valid token is refused (4403) before any operation.
      // A failure here closes the socket with 4500 and a generic reason (see serveGraphqlWs).
      // Runs as a request of its own: a first OIDC sign-in links the account here, audited with its origin.
      onConnect: (ctx) => {
        const origin = client(ctx);
        return withOrigin(origin, async () => {
          const claims = await tokenClaims(app, ctx.connectionParams?.authorization);
          if (!claims) return false;
          if (app.liveSessions.count(claims.userId) >= app.config.maxSocketsPerUser) {
            ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many open connections');
            return false;
          }
          // Tracked before the account is read, so that a disable committing in between still closes it.
          const session = app.liveSessions.track(claims.userId, claims.expiresAt, ctx.extra.socket);
          const context = await buildContext(app, origin);
          return context.viewer !== null && session.open;
        });
      },
      // Parsing, validation and the context happen here rather than inside graphql-ws so
      // that a syntax error, an invalid operation or a failing context reach the client as
      // formatted errors (with the codes Apollo uses over HTTP) instead of closing the socket.
      onSubscribe: async (ctx, _id, payload) => {
        const origin = client(ctx);
        let document: DocumentNode;
        try {
          document = parse(payload.query, parseOptions);
        } catch (error) {
          app.metrics.requested('ws', UNKNOWN_OPERATION);
          if (error instanceof GraphQLError) return [withCode(error, RequestErrorCode.ParseFailed)];
          throw error;
        }
        app.metrics.requested('ws', describeOperation(schema, document, payload.operationName));
        // graphql-ws books an operation (as null) before asking here and fills in a subscription once
        // it started; a started one is also in `subscriptions`, with any graphql-ws lost track of.
        const starting = Object.values(ctx.subscriptions).filter((operation) => operation === null).length;
        if (starting + subscriptions.count(ctx.extra.socket) > MAX_OPERATIONS_PER_SOCKET) {
          return [tooManyRequests(`At most ${MAX_OPERATIONS_PER_SOCKET} operations run at once on one connection: complete one first`)];
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
          const contextValue = await buildContext(app, origin, { cache: false });
          socketOf.set(contextValue, ctx.extra.socket);
          return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
        } catch (error) {
          // Masked here, where the operation's request id is known (onError is not told it);
          // formatError logs the original and passes the masked error through unchanged.
          const masked = withOrigin(origin, () => format({ message: 'Internal server error' }, error));
          return [new GraphQLError(masked.message, { extensions: masked.extensions })];
        }
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        const errors = withOrigin((args.contextValue as Context).client, () => result.errors!.map((e) => format(e.toJSON(), e)));
        app.metrics.failed('ws', describeOperation(schema, args.document, args.operationName), errors);
        return { ...result, errors };
      },
      onError: (_ctx, _id, payload, errors) => {
        const formatted = errors.map((e) => format(e.toJSON(), e));
        // Parsed again (this runs only for errors): graphql-ws does not pass the document here.
        app.metrics.failed('ws', describeQuery(schema, payload.query, payload.operationName), formatted);
        return formatted;
      },
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

/** The user and expiry of a valid bearer token; null without one or for a bad one. Throws when the identity provider cannot be reached (4500). */
async function tokenClaims(app: App, authorization: unknown): Promise<BearerIdentity | null> {
  try {
    const token = TokenService.bearer(authorization);
    return token ? await app.bearer.identify(token) : null;
  } catch (error) {
    if (error instanceof GraphQLError) return null;
    throw error;
  }
}
