import type { WebSocket } from 'ws';
import { observeIterator } from './common/observed-iterator';

/**
 * The live subscriptions of each socket, ended together when it closes,
 * whatever graphql-ws knows of them: a client that completes an id and
 * subscribes with it again before the first subscription started leaves that
 * one out of graphql-ws's books. One close listener per socket however many
 * subscriptions it runs, and a subscription that ends first is let go at once,
 * so a socket open for a whole shift holds only the live ones.
 */
export class SocketSubscriptions {
  private readonly bySocket = new WeakMap<WebSocket, Set<AsyncIterator<unknown>>>();

  /** `subscription`, ended when `socket` closes (at once if it already is). */
  add<T>(socket: WebSocket, subscription: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
    if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) {
      end(subscription);
      return subscription;
    }
    const live = this.bySocket.get(socket) ?? this.watch(socket);
    live.add(subscription);
    return observeIterator(subscription, { end: () => live.delete(subscription) });
  }

  /** The live subscriptions of `socket`. */
  count(socket: WebSocket): number {
    return this.bySocket.get(socket)?.size ?? 0;
  }

  private watch(socket: WebSocket): Set<AsyncIterator<unknown>> {
    const live = new Set<AsyncIterator<unknown>>();
    socket.once('close', () => live.forEach(end));
    this.bySocket.set(socket, live);
    return live;
  }
}

const end = (subscription: AsyncIterator<unknown>) => void subscription.return?.(undefined);
