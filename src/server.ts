import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { WebSocketServer } from 'ws';
import { createApp, type App } from './app';
import type { Config } from './config';
import { buildContext, type Context } from './context';
import { createDataSource } from './database/data-source';
import { formatError } from './errors';
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
      // A connection without a valid token is refused (4403) before any operation.
      onConnect: async (ctx) => {
        const context = await buildContext(app, ctx.connectionParams?.authorization);
        return context.viewer !== null;
      },
      // Subscriptions outlive requests: loaders batch but must not cache across events.
      context: (ctx) => buildContext(app, ctx.connectionParams?.authorization, { cache: false }),
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, apollo };
}
