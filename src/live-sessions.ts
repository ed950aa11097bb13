import type { EventBus } from './events/event-bus';

/**
 * The close code for a connection whose token is bad, expired or revoked, or whose
 * account is disabled, at connect or later: graphql-ws's "Unauthorized", which its
 * client never retries (the same token would be refused again; 4403 it would retry
 * five times over 33 to 46 seconds before telling the application to sign in again).
 */
export const CLOSE_UNAUTHENTICATED = 4401;

// setTimeout fires at once for delays beyond this (about 24.8 days), so longer waits are chained.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What LiveSessions needs of a socket; a `ws` WebSocket fits. */
export interface LiveSocket {
  readonly readyState: number;
  readonly CLOSED: number;
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/** Whom a connection is for: the user, the session its token names (null for an identity provider's token), and the token's expiry. */
export interface SocketIdentity {
  userId: string;
  sessionId: string | null;
  expiresAt: Date;
}

/** One tracked connection. */
export interface LiveSession {
  readonly userId: string;
  /** False once the socket closed or was revoked: an operation still starting must not go on. */
  readonly open: boolean;
}

class Session implements LiveSession {
  open = true;
  timer: NodeJS.Timeout | null = null;
  unwatch = () => {};

  constructor(
    readonly userId: string,
    readonly sessionId: string | null,
    readonly socket: LiveSocket,
  ) {}
}

/**
 * The open graphql-ws connections of this instance, by user, so that an account
 * an admin disables, a session that ends, or a token that expires, loses its live connections at
 * once (close code 4401) with no database query per event. Everything lives in
 * memory and a connection is forgotten as soon as its socket closes, so nothing
 * outlives the sockets it tracks. Each connection watches its user on the
 * bus for its lifetime: the instance then hears of that user's events, the
 * disabling of the account among them, with or without a live subscription.
 */
export class LiveSessions {
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly presenceListeners = new Set<(userId: string, connected: boolean) => void>();

  constructor(private readonly events: Pick<EventBus, 'watch'>) {}

  /**
   * Tracks an authenticated socket until it closes, and closes it with 4401
   * when `expiresAt` (the token's expiry) passes. A socket that is already
   * closed is not tracked and comes back with `open` false.
   */
  track({ userId, sessionId, expiresAt }: SocketIdentity, socket: LiveSocket): LiveSession {
    const session = new Session(userId, sessionId, socket);
    if (socket.readyState === socket.CLOSED) {
      session.open = false;
      return session;
    }
    const sessions = this.byUser.get(userId) ?? new Set();
    this.byUser.set(userId, sessions);
    sessions.add(session);
    if (sessions.size === 1) this.presenceListeners.forEach((listener) => listener(userId, true));
    session.unwatch = this.events.watch(userId);
    socket.once('close', () => this.forget(session));
    this.expireAt(session, expiresAt.getTime());
    return session;
  }

  /** Closes every connection of `userId` on this instance with 4401; returns how many. */
  revoke(userId: string, reason: string): number {
    return this.closeWhere(userId, () => true, reason);
  }

  /** Closes the connections of `userId` on this instance opened with a token of one of `sessionIds` (4401); returns how many. */
  endSessions(userId: string, sessionIds: readonly string[], reason: string): number {
    const ended = new Set(sessionIds);
    return this.closeWhere(userId, (session) => session.sessionId !== null && ended.has(session.sessionId), reason);
  }

  /** Open connections of `userId` on this instance. */
  count(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /** Calls `listener` when a user's first connection on this instance opens (true) and when their last closes (false). */
  onPresence(listener: (userId: string, connected: boolean) => void): void {
    this.presenceListeners.add(listener);
  }

  /** The users with a connection open on this instance. */
  users(): IterableIterator<string> {
    return this.byUser.keys();
  }

  /** Connections tracked right now. */
  get size(): number {
    let count = 0;
    for (const sessions of this.byUser.values()) count += sessions.size;
    return count;
  }

  /** Stops every expiry timer and forgets every connection (at shutdown, once the sockets are being closed). */
  clear(): void {
    for (const sessions of [...this.byUser.values()]) for (const session of sessions) this.forget(session);
  }

  private closeWhere(userId: string, which: (session: Session) => boolean, reason: string): number {
    const sessions = [...(this.byUser.get(userId) ?? [])].filter(which);
    for (const session of sessions) this.close(session, reason);
    return sessions.length;
  }

  private expireAt(session: Session, at: number): void {
    const delay = at - Date.now();
    if (delay <= 0) {
      this.close(session, 'Token expired');
      return;
    }
    session.timer = setTimeout(() => this.expireAt(session, at), Math.min(delay, MAX_TIMER_MS));
    // A pending expiry is no reason to keep the process alive.
    session.timer.unref();
  }

  private close(session: Session, reason: string): void {
    this.forget(session);
    session.socket.close(CLOSE_UNAUTHENTICATED, reason);
  }

  private forget(session: Session): void {
    session.open = false;
    session.unwatch();
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    const sessions = this.byUser.get(session.userId);
    if (!sessions?.delete(session)) return;
    if (sessions.size) return;
    this.byUser.delete(session.userId);
    this.presenceListeners.forEach((listener) => listener(session.userId, false));
  }
}
