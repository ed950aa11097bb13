import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { accessLog, pathOf } from './access-log';
import { createApp, type App } from './app';
import type { Clock } from './common/clock';
import { ConfigError, type Config } from './config';
import { buildContext, type TrustProxy } from './context';
import { createDataSource } from './data-source';
import { migrate } from './database/migrate';
import { httpError } from './errors';
import { graphqlOverHttp } from './graphql/http';
import { operationRules, type OperationRules } from './graphql/limits';
import { OperationPipeline } from './graphql/pipeline';
import { createLogger, type Logger } from './logger';
import { serveProbes } from './probes';
import type { LiveHub } from './live/live-hub';
import { getSchema } from './schema';
import { serveAttachments } from './modules/attachments/attachment-routes';
import { serveUnsubscribe } from './modules/notifications/unsubscribe-route';
import { serveWeb } from './web';
import { serveWebsockets } from './websocket';

export const GRAPHQL_PATH = '/graphql';

export interface RunningServer {
  app: App;
  /** The live subscriptions on this server's websockets, and their delivery. */
  live: LiveHub;
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
  /** Changes the rules every operation meets, on both transports (tests add one); operationRules(config) by default. */
  rules?: (rules: OperationRules) => OperationRules;
}

/**
 * Requests in flight at shutdown get this long to finish; then their connections are cut,
 * leaving time to close Redis and the database within main.ts's 10 s deadline.
 */
const DRAIN_GRACE_MS = 5_000;

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
    const http = await serve(app, config, options, () => closing !== undefined);
    app.outbox.start();
    app.escalations.start();
    app.attachments.start();
    app.auditSealer.start();
    const port = (http.server.address() as AddressInfo).port;
    const origin = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    app.links.origin = config.notifications.publicUrl ?? origin;
    app.notifier?.start();
    const started = app; // for the closure: `app` is reassignable
    return {
      app,
      live: http.live,
      port,
      url: `${origin}${GRAPHQL_PATH}`,
      close: () =>
        (closing ??= (async () => {
          await http.stop();
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

async function serve(app: App, config: Config, options: ServerOptions, closing: () => boolean): Promise<{ server: Server; live: LiveHub; stop(): Promise<void> }> {
  const defaults = operationRules(config);
  const pipeline = new OperationPipeline({
    schema: await getSchema(),
    rules: options.rules?.(defaults) ?? defaults,
    metrics: app.metrics,
    logger: app.logger,
    context: (client) => buildContext(app, client),
  });
  const expressApp = express();
  expressApp.set('trust proxy', config.trustProxy);
  const trust = expressApp.get('trust proxy fn') as TrustProxy;
  const log = accessLog(app.logger);
  const json = express.json({ limit: '1mb' });
  const graphql = graphqlOverHttp(pipeline, trust);
  // Body parsing fails before GraphQL sees the request: a coded JSON answer, never Express's
  // HTML error page (which shows the stack trace outside production).
  const answerFailure = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    if (res.headersSent) return void res.destroy();
    const { status, body } = httpError(error, app.logger, req.id as string);
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  // POST /graphql, every operation of the API but a GET's, runs the access log, the body parser and
  // GraphQL as Express would for it, without its router and its decoration of each request and
  // response (about 0.2 ms of CPU a request: BENCHMARKS.md). Everything else, /graphql's other
  // methods and spellings included, goes through Express.
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || pathOf(req.url) !== GRAPHQL_PATH) return expressApp(req, res);
    log(req, res, () => json(req, res, (error) => (error ? answerFailure(req, res, error) : graphql(req, res, (e) => answerFailure(req, res, e)))));
  });
  const drain = drainable(server);
  const websockets = serveWebsockets(server, { path: GRAPHQL_PATH, pipeline, app, trust });

  expressApp.disable('x-powered-by');
  // An answer is for one viewer at one moment: an ETag (a hash of every response body) would never save a transfer.
  expressApp.disable('etag');
  expressApp.use(log);
  serveProbes(expressApp, app, closing);
  serveWeb(expressApp, GRAPHQL_PATH, app.logger);
  serveUnsubscribe(expressApp, { db: app.db, settings: app.notificationSettings, secret: config.jwtSecret });
  serveAttachments(expressApp, app, trust);
  expressApp.use(GRAPHQL_PATH, json, graphql);
  expressApp.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => answerFailure(req, res, error));

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ConfigError(`Port ${config.port} is in use: set PORT to another port`) : error);
    server.once('error', failed);
    server.listen(config.port, config.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return {
    server,
    live: websockets.hub,
    stop: async () => {
      await Promise.all([drain(DRAIN_GRACE_MS), websockets.dispose()]);
    },
  };
}

/**
 * The graceful stop of `server`: it takes no new connections, idle ones are closed at once,
 * each busy one once its response is sent, and whatever is still open after `graceMs` is cut.
 */
function drainable(server: Server): (graceMs: number) => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    res.once('finish', () => {
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });
  return async (graceMs) => {
    draining = true;
    // Answers not yet started say Connection: close, and end their connection once sent.
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(cut);
  };
}
