/**
 * The receiving end of live delivery: many sockets in the bench's process,
 * kept cheap (they share two cores with the server). Each frame is parsed
 * once (graphql-ws's client does it; the bare clients do the same) and only
 * the message body reaches `sink`, which times and counts it.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export const MESSAGE_ADDED = 'subscription { messageAdded { id body createdAt author { id name } thread { id } } }';

export type Sink = (body: string, frame: unknown) => void;

export interface Subscribers {
  close(): Promise<void>;
}

/** Sockets opened at once: a larger burst, on a loaded machine, kept some from their acknowledgement past the server's 3 s (4408). */
const OPENING_AT_ONCE = 20;

/** Waits for the subscribe messages that follow the last acknowledgement to be handled: sockets that receive nothing cannot say it. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

/** Opens one socket per token (OPENING_AT_ONCE at a time), each subscribed to MESSAGE_ADDED; resolves once every socket is acknowledged. */
export async function subscribeToCareThread(url: string, tokens: string[], sink: Sink): Promise<Subscribers> {
  const clients: Client[] = [];
  for (let i = 0; i < tokens.length; i += OPENING_AT_ONCE) {
    const batch = tokens.slice(i, i + OPENING_AT_ONCE).map(
      (token) =>
        new Promise<void>((connected, failed) => {
          const client = createClient({
            url: url.replace(/^http/, 'ws'),
            webSocketImpl: WebSocket,
            connectionParams: { authorization: `Bearer ${token}` },
            lazy: false,
            retryAttempts: 0,
            onNonLazyError: () => {}, // a close is handled below, once and without printing the event
            on: { connected: () => connected(), closed: (event) => failed(new Error(`socket closed: ${(event as { code?: number }).code}`)) },
          });
          clients.push(client);
          client.subscribe<{ messageAdded: { body: string } }>(
            { query: MESSAGE_ADDED },
            { next: (result) => sink(result.data!.messageAdded.body, result), error: (error) => failed(error), complete: () => {} },
          );
        }),
    );
    await Promise.all(batch);
  }
  return { close: async () => void (await Promise.all(clients.map((client) => client.dispose()))) };
}

/** Plain `ws` sockets to the bare broadcast server, which needs no handshake. */
export async function subscribeToBare(url: string, count: number, sink: Sink): Promise<Subscribers> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += OPENING_AT_ONCE) {
    const batch = Array.from({ length: Math.min(OPENING_AT_ONCE, count - i) }, () => {
      const socket = new WebSocket(url.replace(/^http/, 'ws'));
      sockets.push(socket);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        sink(frame.payload.data.messageAdded.body, frame);
      });
      return new Promise((open, failed) => socket.once('open', open).once('error', failed));
    });
    await Promise.all(batch);
  }
  return {
    close: async () => void (await Promise.all(sockets.map((socket) => new Promise((closed) => (socket.once('close', closed), socket.close()))))),
  };
}
