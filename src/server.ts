import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { WebSocketServer } from 'ws';
import { createApp, type App } from './app';
import type { Config } from './config';
import { buildContext, type Context } from './context';
import { createDataSource } from './database/data-source';
import { formatError, httpError, RequestErrorCode, withCode } from './errors';
import { createLogger, type Logger } from './logger';
import { getSchema } from './schema';

export const GRAPHQL_PATH = '/graphql';

export interface RunningServer {
  app: App;
  /** e.g. http://127.0.0.1:4000/graphql; the websocket URL is the same with ws:. */
  url: string;
  port: number;
  /** Stops taking requests, drains HTTP, closes websockets, then the database. Safe to call twice. */
  close(): Promise<void>;
}

export interface ServerOptions {
  logger?: Logger;
  /** Receives every SQL statement (tests count them). */
  queryLogger?: TypeOrmLogger;
}

/**
 * Opens and migrates the database, creates the start-up admin, and serves
 * GraphQL over HTTP and graphql-ws on one port and path. Rejects (after
 * cleaning up) when the database cannot be opened or the port is taken.
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = createDataSource(config.database, options.queryLogger);
  await db.initialize();
  try {
    await db.runMigrations({ transaction: 'all' });
    const app = createApp(config, db, logger);
    if (config.admin) await app.users.ensureAdmin(config.admin.email, config.admin.password);
    const http = await serve(app, config);
    const port = (http.server.address() as AddressInfo).port;
    let closing: Promise<void> | undefined;
    return {
      app,
      port,
      url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}${GRAPHQL_PATH}`,
      close: () =>
        (closing ??= (async () => {
          await http.apollo.stop();
          await db.destroy();
        })()),
    };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function serve(app: App, config: Config): Promise<{ server: Server; apollo: ApolloServer<Context> }> {
  const schema = await getSchema();
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, app.logger);
  const expressApp = express();
  const server = createServer(expressApp);

  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const wsCleanup = useServer<{ authorization?: unknown }>(
    {
      schema,
      // graphql-ws puts an unexpected error's message in the close reason unless it thinks
      // it runs in production; a client must never see internals, whatever NODE_ENV says.
      isProd: true,
      // A connection without a valid token is refused (4403) before any operation.
      onConnect: async (ctx) => {
        try {
          const context = await buildContext(app, ctx.connectionParams?.authorization);
          return context.viewer !== null;
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
    wsServer,
  );

  const closeWebsockets: ApolloServerPlugin<Context> = {
    async serverWillStart() {
      return { drainServer: async () => wsCleanup.dispose() };
    },
  };
  const apollo = new ApolloServer<Context>({
    schema,
    formatError: format,
    includeStacktraceInErrorResponses: false,
    // main.ts owns shutdown (HTTP, websockets, then the database, then exit 0). Apollo's own
    // handler would stop only itself and re-raise the signal, killing the process mid-close.
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    introspection: true,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server }), closeWebsockets, ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();

  expressApp.disable('x-powered-by');
  expressApp.get('/healthz', async (_req, res) => {
    try {
      await app.db.query('SELECT 1');
      res.json({ status: 'ok' });
    } catch (error) {
      app.logger.error({ err: error }, 'health check failed');
      res.status(503).json({ status: 'unavailable' });
    }
  });
  expressApp.use(
    GRAPHQL_PATH,
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, { context: async ({ req }) => buildContext(app, req.headers.authorization) }),
  );
  // Body parsing fails before Apollo sees the request; answer like Apollo would, never with
  // Express's HTML error page (which shows the stack trace outside production).
  expressApp.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    const { status, body } = httpError(error, app.logger);
    res.status(status).json(body);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, apollo };
}
