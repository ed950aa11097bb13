import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { accessLog } from './access-log';
import { createApp, type App } from './app';
import type { Clock } from './common/clock';
import { ConfigError, type Config } from './config';
import { buildContext, clientInfo, type ClientInfo, type Context, type TrustProxy } from './context';
import { createDataSource } from './database/data-source';
import { migrate } from './database/migrate';
import { formatError, httpError, RequestErrorCode } from './errors';
import { hasSubscription, operationChecksPlugin, parseOptions, validationRules } from './graphql-limits';
import { createLogger, type Logger } from './logger';
import { requestMetricsPlugin } from './metrics/request-metrics.plugin';
import { withOrigin } from './modules/audit/audit-origin';
import { serveProbes } from './probes';
import { getSchema } from './schema';
import { serveWeb } from './web';
import { serveWebsockets } from './websocket';

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
  /** The time the escalation schedule reads; the system clock by default (tests move theirs forward). */
  clock?: Clock;
  /**
   * Runs once the database is migrated and the start-up admin exists, before the
   * port opens: the first request finds its work done (npm run demo's clinic).
   * If it rejects, startServer cleans up and rejects with its error.
   */
  beforeListen?: (app: App) => Promise<void>;
}

/**
 * Opens and migrates the database, creates the start-up admin, and serves
 * GraphQL over HTTP and graphql-ws on one port and path. Rejects (after
 * cleaning up) when the database cannot be opened or the port is taken (then
 * with a ConfigError whose one line names PORT).
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = createDataSource(config.database, options.queryLogger);
  await db.initialize();
  let app: App | undefined;
  try {
    await migrate(db);
    app = createApp(config, db, logger, options.clock);
    await app.loginLimiter.connected();
    if (config.admin) await app.users.ensureAdmin(config.admin.email, config.admin.password);
    await options.beforeListen?.(app);
    let closing: Promise<void> | undefined;
    // /readyz answers 503 from the moment close() is called, so that balancers stop sending.
    const http = await serve(app, config, () => closing !== undefined);
    app.escalations.start();
    const port = (http.server.address() as AddressInfo).port;
    const started = app; // for the closure: `app` is reassignable
    return {
      app,
      port,
      url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}${GRAPHQL_PATH}`,
      close: () =>
        (closing ??= (async () => {
          await http.apollo.stop();
          await started.close();
          await db.destroy();
        })()),
    };
  } catch (error) {
    await app?.close();
    await db.destroy();
    throw error;
  }
}

async function serve(app: App, config: Config, closing: () => boolean): Promise<{ server: Server; apollo: ApolloServer<Context> }> {
  const schema = await getSchema();
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, app.logger);
  const expressApp = express();
  expressApp.set('trust proxy', config.trustProxy);
  const trust = expressApp.get('trust proxy fn') as TrustProxy;
  const server = createServer(expressApp);

  const websockets = serveWebsockets(server, { path: GRAPHQL_PATH, schema, app, format, trust });

  const closeWebsockets: ApolloServerPlugin<Context> = {
    async serverWillStart() {
      return { drainServer: async () => websockets.dispose() };
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
    // One operation per request, so that every limit below holds per request.
    allowBatchedHttpRequests: false,
    // Automatic persisted queries are not used; off, a request cannot make the server store anything.
    persistedQueries: false,
    // INTROSPECTION=false is enforced by validationRules, the same way over graphql-ws.
    introspection: true,
    parseOptions,
    validationRules: validationRules(config.introspection),
    plugins: [
      operationChecksPlugin(schema),
      requestMetricsPlugin(schema, app.metrics),
      // Requests in flight get this long to finish; then their connections are cut, leaving time
      // to close Redis and the database within main.ts's 10 s deadline.
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: 5_000 }),
      closeWebsockets,
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  expressApp.disable('x-powered-by');
  expressApp.use(accessLog(app.logger));
  serveProbes(expressApp, app, closing);
  serveWeb(expressApp, GRAPHQL_PATH, app.logger);
  expressApp.use(
    GRAPHQL_PATH,
    express.json({ limit: '1mb' }),
    // After body parsing, whose callbacks would lose the request's async context.
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (hasSubscription(req.method === 'GET' ? req.query.query : req.body?.query)) {
        res.status(400).json({ errors: [{ message: 'Subscriptions run over graphql-ws: open a websocket to this same URL', extensions: { code: RequestErrorCode.BadRequest } }] });
        return;
      }
      const client = clientInfo(req, trust, req.headers.authorization, req.id as string);
      res.locals.client = client;
      withOrigin(client, next);
    },
    expressMiddleware(apollo, { context: async ({ res }) => buildContext(app, res.locals.client as ClientInfo) }),
  );
  // Body parsing fails before Apollo sees the request; answer like Apollo would, never with
  // Express's HTML error page (which shows the stack trace outside production).
  expressApp.use((error: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    const { status, body } = httpError(error, app.logger, req.id as string);
    res.status(status).json(body);
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ConfigError(`Port ${config.port} is in use: set PORT to another port`) : error);
    server.once('error', failed);
    server.listen(config.port, config.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return { server, apollo };
}
