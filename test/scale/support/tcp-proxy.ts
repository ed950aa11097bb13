import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

/**
 * A TCP proxy between one server process and Redis, so that a test can take
 * Redis away from that process without touching the machine's Redis (other
 * runs share it).
 * - `cut()`: every connection is reset and new ones are refused at once, as when Redis is down.
 * - `stall()`: connections stay open but nothing gets through either way, as in a network partition.
 * - `restore()`: new connections go through again (stalled ones are reset, so clients reconnect).
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private mode: 'open' | 'cut' | 'stalled' = 'open';
  private server: Server | null = null;
  port = 0;

  constructor(private readonly target: string) {}

  /** redis://127.0.0.1:<port>, for REDIS_URL. */
  get url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async start(): Promise<this> {
    const { hostname, port } = new URL(this.target);
    const server = createServer((client) => {
      if (this.mode === 'cut') {
        client.resetAndDestroy();
        return;
      }
      const pair: Pair = { client, upstream: null };
      this.pairs.add(pair);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        pair.upstream?.destroy();
      };
      client.on('error', end);
      client.on('close', end);
      if (this.mode === 'stalled') return; // accepted, never answered
      const upstream = connect(Number(port || 6379), hostname);
      pair.upstream = upstream;
      upstream.on('error', end);
      upstream.on('close', end);
      client.on('data', (data) => {
        if (this.mode === 'open') upstream.write(data);
      });
      upstream.on('data', (data) => {
        if (this.mode === 'open') client.write(data);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  cut(): void {
    this.mode = 'cut';
    this.resetAll();
  }

  stall(): void {
    this.mode = 'stalled';
  }

  restore(): void {
    if (this.mode === 'stalled') this.resetAll();
    this.mode = 'open';
  }

  /** Connections through the proxy right now. */
  connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private resetAll(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }
}
