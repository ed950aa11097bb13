/**
 * Events cross instances on one Redis channel per shard of users, and an
 * instance listens to the shards of the users it has live subscriptions of.
 * One holding U users listens to about 1 - e^(-U/SHARDS) of the shards, and
 * hears that share of the events of users it does not hold: with 4096, 2% at
 * a hundred users, 22% at a thousand (1024 shards: 9% and 62%). More shards
 * cost little: a publish goes to one channel per recipient's shard whatever
 * the count, and an instance subscribes (again after a reconnect) to at most
 * min(U, SHARDS) channels, spread over a Redis Cluster's 16,384 slots.
 * shardOf and SHARDS decide the channels every instance sends to and listens
 * to: changing either must reach all instances at once.
 */
export const SHARDS = 4096;

/** Last release of a shard to its unsubscribe: a page reload or a reconnect in the meantime keeps the subscription. */
export const LINGER_MS = 5_000;

/** The shard of `userId`: FNV-1a of its UTF-16 code units, the same in every process and version. */
export function shardOf(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SHARDS;
}

/** The distinct shards of `userIds`. */
export function shardsOf(userIds: readonly string[]): number[] {
  return [...new Set(userIds.map(shardOf))];
}

/** What listens to shards: the Redis transport. */
export interface ShardListener {
  listen(shard: number): void;
  unlisten(shard: number): void;
}

/**
 * Which users this instance has live subscriptions of, counted by shard:
 * `listener` listens to a shard from its first watch until LINGER_MS after
 * its last release. Without a listener (no Redis) it only counts.
 */
export class ShardWatches {
  private readonly counts = new Uint32Array(SHARDS);
  private readonly lingering = new Map<number, NodeJS.Timeout>();

  constructor(private readonly listener: ShardListener | null) {}

  /** Counts one watch of `userId`; the release it returns counts it off once, however often it is called. */
  watch(userId: string): () => void {
    const shard = shardOf(userId);
    if (this.counts[shard]++ === 0 && !this.cancelLinger(shard)) this.listener?.listen(shard);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.counts[shard] === 0 && this.listener) this.linger(shard);
    };
  }

  /** Forgets the pending unsubscribes (the transport is closing). */
  close(): void {
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
  }

  private linger(shard: number): void {
    const timer = setTimeout(() => {
      this.lingering.delete(shard);
      this.listener!.unlisten(shard);
    }, LINGER_MS);
    timer.unref();
    this.lingering.set(shard, timer);
  }

  private cancelLinger(shard: number): boolean {
    const timer = this.lingering.get(shard);
    if (!timer) return false;
    clearTimeout(timer);
    this.lingering.delete(shard);
    return true;
  }
}
