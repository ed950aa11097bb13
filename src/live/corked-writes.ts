import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Holds back what is written to websockets until the current turn of the
 * event loop ends, then lets each connection's bytes go out in one write:
 * frames written to one socket in the same turn (those of a client's several
 * subscriptions to one event, or of events that queued behind each other)
 * cost one system call rather than one each. Nothing is reordered, and a
 * socket's backlog (bufferedAmount) counts what is held.
 */
export class CorkedWrites {
  private readonly corked = new Set<Socket>();

  /** Corks `socket`'s connection until this turn ends (ws's own cork around each frame nests within it). */
  hold(socket: WebSocket): void {
    // ws does not expose its connection; `_socket` has held it since ws 1.
    const connection = (socket as unknown as { _socket: Socket | null })._socket;
    if (!connection || this.corked.has(connection)) return;
    if (!this.corked.size) setImmediate(() => this.release());
    connection.cork();
    this.corked.add(connection);
  }

  private release(): void {
    for (const connection of this.corked) connection.uncork();
    this.corked.clear();
  }
}
