import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, MessageType, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from './logger';
import { requestIdOf } from './request-id';

/**
 * What each operation's context sees of its socket: the socket, and what
 * `describe` kept of its upgrade request (the request itself is let go: a
 * socket open for a shift should not hold its headers and parser state).
 */
export interface Extra<D> {
  readonly socket: WebSocket;
  readonly client: D;
}

/** Sockets are pinged this often, and cut when a ping got no pong by the next one. */
const KEEP_ALIVE_MS = 12_000;
/** Messages only a server sends: graphql-ws's core throws on them, which its adapter would report as its own failure (4500). */
const SERVER_MESSAGES: unknown[] = [MessageType.ConnectionAck, MessageType.Next, MessageType.Error];

/**
 * graphql-ws's protocol core on a `ws` server: graphql-ws's own `useServer`,
 * except that a client breaking the protocol is the client's mistake. It
 * is closed with 4400 (1009, 1007... from ws for bad frames) and logged at
 * info, never reported as an internal error with a stack on the console. A
 * failure of our own hooks still closes the socket with 4500 and is logged
 * as an error. Returns the cleanup that closes every socket (1001).
 */
export function serveGraphqlWs<P extends Record<string, unknown>, D>(
  wss: WebSocketServer,
  options: ServerOptions<P, Extra<D>>,
  describe: (request: IncomingMessage) => D,
  logger: Logger,
) {
  const server = makeServer<P, Extra<D>>(options);
  wss.options.handleProtocols = handleProtocols;
  // ws re-emits only its HTTP server's errors here, which are failed listens: startServer reports them.
  wss.on('error', () => undefined);
  // One round for every socket: each is pinged, and one that has not answered the previous ping is cut.
  const answered = new WeakSet<WebSocket>();
  const pinging = setInterval(() => {
    for (const socket of wss.clients) {
      if (socket.readyState !== socket.OPEN) continue;
      if (!answered.delete(socket)) {
        socket.terminate();
        continue;
      }
      socket.ping();
    }
  }, KEEP_ALIVE_MS);
  wss.on('connection', (socket, request) => {
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
    // The socket's own lines name its upgrade request; each operation on it gets an id of its own.
    const requestId = requestIdOf(request);
    socket.on('error', (error: Error & { code?: string }) => logger.info({ requestId, code: error.code, reason: error.message }, 'websocket closed: the client broke the protocol'));
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, closeReason(reason)),
        onMessage: (deliver) =>
          socket.on('message', async (data) => {
            const text = String(data);
            if (SERVER_MESSAGES.includes(messageType(text))) {
              logger.info({ requestId, type: messageType(text) }, 'websocket closed: the client sent a message only servers send');
              socket.close(CloseCode.BadRequest, 'Invalid message received');
              return;
            }
            try {
              await deliver(text);
            } catch (error) {
              logger.error({ requestId, err: error }, 'websocket message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, client: describe(request) },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });
  return {
    dispose: async () => {
      clearInterval(pinging);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A close frame carries at most 123 bytes of reason; graphql-ws may quote a client's long id in it. */
function closeReason(reason = ''): string {
  let fitted = reason;
  while (Buffer.byteLength(fitted) > 123) fitted = [...fitted].slice(0, -1).join('');
  return fitted;
}

/** The `type` of a JSON message, if it is one; graphql-ws itself refuses anything malformed (4400). */
function messageType(text: string): unknown {
  try {
    return (JSON.parse(text) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}
