import type { Server } from 'node:http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { App } from './app';
import { buildContext, sourceOf, viewerContext, type ClientInfo, type Context, type TrustProxy } from './context';
import { tooManyRequests } from './errors';
import { INBOX_CHANGED, MESSAGE_ADDED, PARTICIPANTS_CHANGED } from './events/event-bus';
import type { OperationArgs, OperationPipeline } from './graphql/pipeline';
import { serveGraphqlWs, type Extra } from './graphql-ws-adapter';
import { operationAudience } from './live/audience';
import { LiveFeed } from './live/live-feed';
import { LiveHub } from './live/live-hub';
import { CLOSE_UNAUTHENTICATED } from './live-sessions';
import { UNKNOWN_OPERATION, type OperationLabels } from './metrics/operation-labels';
import { withOrigin } from './common/request-origin';
import type { BearerIdentity } from './modules/auth/bearer-identity';
import { IdentityProviderUnavailable } from './modules/auth/oidc';
import { TokenService } from './modules/auth/token.service';
import type { User } from './modules/users/user.entity';
import { givenRequestId } from './request-id';

export interface WebsocketOptions {
  path: string;
  pipeline: OperationPipeline;
  app: App;
  trust: TrustProxy;
}

/** Frames above this close the socket (1009): far above the largest valid message, far below what would strain memory. */
const MAX_FRAME_BYTES = 64 * 1024;
/** A socket that has not sent connection_init by then is closed (4408). */
const CONNECTION_INIT_TIMEOUT_MS = 3_000;
/** For a connection over the per-user limit: graphql-ws's "too many" code, which its client does not retry. */
const CLOSE_TOO_MANY_CONNECTIONS = 4429;
/**
 * For a connection whose token cannot be checked for now (the identity provider's keys
 * cannot be read): the WebSocket "Try Again Later", which graphql-ws's client retries
 * (4500, an internal error, it never does).
 */
const CLOSE_TRY_AGAIN_LATER = 1013;
const PROVIDER_UNAVAILABLE = Symbol('identity provider unavailable');
const INVALID_TOKEN = 'Invalid or expired token';
/**
 * Operations one socket may run at once, live subscriptions included: each holds a listener
 * that every event meets. A dashboard needs one; more is refused (TOO_MANY_REQUESTS) until one ends.
 */
export const MAX_OPERATIONS_PER_SOCKET = 100;

/** What an operation's context tells the adapter: its socket and id, and its labels for the metrics. */
interface Running {
  socket: WebSocket;
  id: string;
  operation: OperationLabels;
}

/** What a socket keeps of its upgrade request: where it came from (each operation gets a request id of its own unless the client gave one). */
interface SocketClient {
  ip: string;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * graphql-ws on the HTTP server's port and path, over the operation pipeline
 * (the same parse, rules, context, masking and metrics as HTTP). Returns its
 * cleanup, which closes every socket (the server's shutdown calls it after HTTP
 * has drained). Each accepted socket is tracked in app.liveSessions, which closes
 * it (4401) when its token expires, its session ends or its account is disabled.
 */
export function serveWebsockets(server: Server, { path, pipeline, app, trust }: WebsocketOptions) {
  const running = new WeakMap<Context, Running>();
  /** The formatted errors of each refusal, for onError: graphql-ws hands back the array onSubscribe returned. */
  const refusals = new WeakMap<readonly GraphQLError[], GraphQLFormattedError[]>();
  const live = liveHub(app, pipeline);
  const wss = new WebSocketServer({ server, path, maxPayload: MAX_FRAME_BYTES });
  app.metrics.countWebsocketsWith(() => wss.clients.size);
  const runningOf = (args: { contextValue?: unknown }) => running.get(args.contextValue as Context)!; // onSubscribe noted it
  const websockets = serveGraphqlWs<{ authorization?: unknown }, SocketClient>(
    wss,
    {
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      execute: (args) => pipeline.execute(args as OperationArgs),
      subscribe: async (args) => {
        const { socket, id, operation } = runningOf(args);
        const started = await pipeline.subscribe(args as OperationArgs);
        if (!(started instanceof LiveFeed)) return started;
        const { document, variableValues, operationName } = args;
        return live.hub.add(started, socket, id, { document, variableValues, operationName, labels: operation }, (args.contextValue as Context).client);
      },
      // A connection without a valid token is refused (4401) before any operation.
      // Any other failure here closes the socket with 4500 and a generic reason (see serveGraphqlWs).
      // Runs as a request of its own: a first OIDC sign-in links the account here, audited with its origin.
      // Each refusal closes the socket itself; graphql-ws's own close that follows (4403) is then ignored.
      onConnect: (ctx) => {
        const origin = client(ctx);
        const { socket } = ctx.extra;
        return withOrigin(origin, async () => {
          const claims = await tokenClaims(app, ctx.connectionParams?.authorization);
          if (claims === PROVIDER_UNAVAILABLE) {
            socket.close(CLOSE_TRY_AGAIN_LATER, 'Identity provider unavailable');
            return false;
          }
          if (!claims) {
            socket.close(CLOSE_UNAUTHENTICATED, INVALID_TOKEN);
            return false;
          }
          if (app.liveSessions.count(claims.userId) >= app.config.maxSocketsPerUser) {
            socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many open connections');
            return false;
          }
          // Tracked before the account and session are read, so that a disable or sign-out committing in between still closes it.
          const session = app.liveSessions.track(claims, socket);
          const context = await buildContext(app, origin);
          if (context.viewer === null) socket.close(CLOSE_UNAUTHENTICATED, context.authError?.message ?? INVALID_TOKEN);
          return context.viewer !== null && session.open;
        });
      },
      // Every operation goes through the pipeline here, so that a refusal reaches the client
      // as formatted errors (an error message) instead of closing the socket.
      onSubscribe: async (ctx, id, payload) => {
        const { socket } = ctx.extra;
        const prepared = await pipeline.prepare(payload, {
          transport: 'ws',
          client: client(ctx),
          admit: () => {
            // graphql-ws books an operation (as null) before asking here and fills in a subscription once
            // it started; the hub holds it from before its start ends, and any graphql-ws lost track of.
            const starting = Object.entries(ctx.subscriptions).filter(([other, operation]) => operation === null && !live.hub.holds(socket, other)).length;
            return starting + live.hub.countOn(socket) > MAX_OPERATIONS_PER_SOCKET
              ? tooManyRequests(`At most ${MAX_OPERATIONS_PER_SOCKET} operations run at once on one connection: complete one first`)
              : null;
          },
        });
        if (!prepared.ok) {
          refusals.set(prepared.errors, prepared.formatted);
          return prepared.errors;
        }
        running.set(prepared.args.contextValue, { socket, id, operation: prepared.operation });
        return prepared.args;
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return undefined;
        return { ...result, errors: pipeline.format('ws', (args.contextValue as Context).client, runningOf(args).operation, result.errors) };
      },
      // Only refusals get here, formatted and counted already: onSubscribe prepares every operation graphql-ws runs.
      onError: (ctx, _id, _payload, errors) => refusals.get(errors) ?? pipeline.format('ws', client(ctx), UNKNOWN_OPERATION, errors),
    },
    (request: IncomingMessage): SocketClient => ({ ...sourceOf(request, trust), requestId: givenRequestId(request) }),
    app.logger,
  );
  const client = (ctx: WsContext<{ authorization?: unknown }, Extra<SocketClient>>): ClientInfo => {
    const { ip, userAgent, requestId } = ctx.extra.client;
    return { authorization: ctx.connectionParams?.authorization, ip, userAgent, requestId: requestId ?? randomUUID() };
  };
  return {
    hub: live.hub,
    dispose: async () => {
      await websockets.dispose();
      live.stop();
      await live.hub.settled();
      app.liveSessions.clear();
    },
  };
}

/**
 * The live hub of this server, fed with every committed event of the topics
 * subscriptions hear of (messages in each thread's order, once: MessageService.inOrder).
 * Each group's execution runs with a context of its first member.
 */
function liveHub(app: App, pipeline: OperationPipeline) {
  const hub = new LiveHub({
    execute: ({ document, variableValues, operationName }, viewer, origin, rootValue) =>
      pipeline.execute({ schema: pipeline.schema, document, variableValues, operationName, rootValue, contextValue: viewerContext(app, viewer as User, origin) }),
    format: (operation, origin, errors) => pipeline.format('ws', origin, operation.labels, errors),
    audience: ({ document, operationName }) => operationAudience(pipeline.schema, document, operationName),
    delivered: (event, userIds) => {
      if (event.topic === MESSAGE_ADDED) app.audit.delivered(event.payload, userIds);
    },
    count: { subscriptions: (field, change) => app.metrics.countSubscriptions(field, change), deliveries: (field, sent) => app.metrics.countDeliveries(field, sent) },
    logger: app.logger,
  });
  const stops = [
    app.messages.inOrder((payload) => hub.route({ topic: MESSAGE_ADDED, payload })),
    app.events.on(PARTICIPANTS_CHANGED, (payload) => hub.route({ topic: PARTICIPANTS_CHANGED, payload })),
    app.events.on(INBOX_CHANGED, (payload) => hub.route({ topic: INBOX_CHANGED, payload })),
  ];
  return { hub, stop: () => stops.forEach((stop) => stop()) };
}

/**
 * The user and expiry of a valid bearer token; null without one or for a bad one;
 * PROVIDER_UNAVAILABLE (logged as an error, as over HTTP) when the identity
 * provider's keys cannot be read.
 */
async function tokenClaims(app: App, authorization: unknown): Promise<BearerIdentity | null | typeof PROVIDER_UNAVAILABLE> {
  try {
    const token = TokenService.bearer(authorization);
    return token ? await app.bearer.identify(token) : null;
  } catch (error) {
    if (error instanceof GraphQLError) return null;
    if (!(error instanceof IdentityProviderUnavailable)) throw error;
    app.logger.error({ err: error }, 'websocket refused for now: the identity provider is unavailable');
    return PROVIDER_UNAVAILABLE;
  }
}
