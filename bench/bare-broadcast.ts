/**
 * The reference for live delivery, run as its own process by the fan-out
 * scenario: the least a server can do for the same work. A POST's body is a
 * message body; it is put in a graphql-ws `next` frame padded to FRAME_BYTES
 * (the size of CareThread's frame for that message), serialized once, and the
 * same bytes are written to every open `ws` socket. Prints {"url": ...} once
 * listening.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const FRAME_BYTES = Number(process.env.FRAME_BYTES);
const sockets = new Set<WebSocket>();

function frame(body: string): Buffer {
  const bare = (pad: string) => JSON.stringify({ type: 'next', payload: { data: { messageAdded: { body, pad } } } });
  return Buffer.from(bare('x'.repeat(Math.max(0, FRAME_BYTES - Buffer.byteLength(bare(''))))));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const bytes = frame(Buffer.concat(chunks).toString());
    for (const socket of sockets) socket.send(bytes, { binary: false });
    res.setHeader('content-type', 'application/json');
    res.end('{"data":{"sent":true}}');
  });
});
new WebSocketServer({ server }).on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/` }));
});
