import { Redis } from 'ioredis';
import type { LiveSessions } from '../live-sessions';
import type { Logger } from '../logger';

/** How often each instance says again who is connected to it; a claim lasts three times that, so a dead instance's fade. */
const REFRESH_MS = 20_000;
const CLAIM_MS = 3 * REFRESH_MS;
const key = (userId: string) => `carethread:presence:${userId}`;

/**
 * Whether someone has a live connection on any instance: a notification is
 * only for those who are not watching. This instance's connections are known
 * at once; with Redis, each instance keeps a hash per connected user naming
 * itself until a time it pushes forward every REFRESH_MS, claimed when the
 * user's first connection opens and given up when their last closes: an
 * instance that dies without giving them up is forgotten within CLAIM_MS.
 */
export class Presence {
  private readonly redis: Redis | null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly failed = (error: unknown) => this.logger.warn({ err: error }, 'could not share who is connected here');

  constructor(
    private readonly sessions: LiveSessions,
    redisUrl: string | null,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {
    this.redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: `carethread-presence-${instanceId}` }) : null;
    if (this.redis) sessions.onPresence((userId, connected) => void (this.closed || this.claim(userId, connected).catch(this.failed)));
  }

  start(): void {
    if (!this.redis || this.timer) return;
    const refresh = () => void this.refresh().catch(this.failed);
    refresh();
    this.timer = setInterval(refresh, REFRESH_MS);
  }

  async isLive(userId: string): Promise<boolean> {
    if (this.sessions.count(userId) > 0) return true;
    if (!this.redis) return false;
    const claims = await this.redis.hgetall(key(userId));
    return Object.entries(claims).some(([instance, until]) => instance !== this.instanceId && Number(until) > Date.now());
  }

  private async claim(userId: string, connected: boolean): Promise<void> {
    if (!connected) {
      await this.redis!.hdel(key(userId), this.instanceId);
      return;
    }
    await this.redis!.multi().hset(key(userId), this.instanceId, String(Date.now() + CLAIM_MS)).pexpire(key(userId), CLAIM_MS).exec();
  }

  private async refresh(): Promise<void> {
    const until = String(Date.now() + CLAIM_MS);
    const batch = this.redis!.pipeline();
    for (const userId of this.sessions.users()) batch.hset(key(userId), this.instanceId, until).pexpire(key(userId), CLAIM_MS);
    await batch.exec();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.redis) this.redis.disconnect();
  }
}
