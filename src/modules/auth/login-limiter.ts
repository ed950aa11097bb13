import type { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LoginLimits } from '../../config';
import { tooManyRequests } from '../../errors';
import type { Logger } from '../../logger';

/** Counts failed sign-ins by account and by client IP address; `limiter.points` is the most allowed. */
interface Counter {
  limiter: RateLimiterAbstract;
  /** Ends the refusal message, e.g. "for this account". */
  scope: string;
}

/**
 * Refuses sign-in (TOO_MANY_REQUESTS, with `retryAfterSeconds`) for
 * `lockoutSeconds` once an account, or an IP address, has failed
 * `maxFailuresPer...` times within that long; a success clears the account's
 * count. Unknown e-mail addresses count like real ones, so a lockout says
 * nothing about which accounts exist. With Redis the counts are shared by
 * every instance; while Redis is unreachable each instance counts on its own.
 */
export class LoginLimiter {
  private readonly redis: Redis | null;
  private readonly account: Counter;
  private readonly ip: Counter;

  constructor(
    private readonly limits: LoginLimits,
    redisUrl: string | null,
    logger: Logger,
  ) {
    this.redis = redisUrl
      ? // While Redis is down a command fails at once and the in-memory count takes over.
        new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'carethread-login-limits' })
      : null;
    // The event bus reports Redis outages; here the in-memory counts simply take over.
    this.redis?.on('error', (error: Error) => logger.debug({ err: error }, 'login limits: Redis unavailable'));
    this.account = { limiter: this.limiter('account', limits.maxFailuresPerAccount), scope: 'for this account' };
    this.ip = { limiter: this.limiter('ip', limits.maxFailuresPerIp), scope: 'from this address' };
  }

  /**
   * Resolves once Redis is connected, or after `timeoutMs` when it is not
   * (sign-ins are then counted in memory until it is).
   */
  connected(timeoutMs = 2_000): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      redis.once('ready', done);
    });
  }

  /** Redis answers a PING (at once without Redis); rejects at once while it is disconnected. */
  async ping(): Promise<void> {
    await this.redis?.ping();
  }

  /**
   * Runs `verify` (a password check for `account`, from `ip`) unless either is
   * locked out, and counts a false as a failure; a true clears the account's
   * count. What `verify` said, or TOO_MANY_REQUESTS while locked out, or when
   * this failure was the last one allowed. Sign-in and changePassword both go through it.
   */
  async attempt(account: string, ip: string, verify: () => Promise<boolean>): Promise<boolean> {
    await this.check(account, ip);
    if (await verify()) {
      await this.succeeded(account);
      return true;
    }
    await this.failed(account, ip);
    return false;
  }

  /** TOO_MANY_REQUESTS while the account or the address is locked out. */
  private async check(account: string, ip: string): Promise<void> {
    for (const [counter, key] of this.counters(account, ip)) {
      const state = await counter.limiter.get(key);
      if (state && state.consumedPoints >= counter.limiter.points) throw this.refusal(counter, state.msBeforeNext);
    }
  }

  /** Counts a failure; TOO_MANY_REQUESTS when it was the last one allowed. */
  private async failed(account: string, ip: string): Promise<void> {
    let refusal: GraphQLError | null = null;
    for (const [counter, key] of this.counters(account, ip)) {
      const state = await counter.limiter.consume(key).catch((rejected: unknown) => {
        if (rejected instanceof RateLimiterRes) return rejected;
        throw rejected;
      });
      if (state.consumedPoints >= counter.limiter.points) {
        await counter.limiter.block(key, this.limits.lockoutSeconds);
        refusal ??= this.refusal(counter, this.limits.lockoutSeconds * 1000);
      }
    }
    if (refusal) throw refusal;
  }

  private async succeeded(account: string): Promise<void> {
    await this.account.limiter.delete(account);
  }

  /** Drops the Redis connection at once: the counts live in Redis, and a stalled Redis would never answer QUIT. */
  close(): void {
    this.redis?.disconnect();
  }

  private counters(account: string, ip: string): [Counter, string][] {
    return [
      [this.account, account],
      [this.ip, ip],
    ];
  }

  private limiter(name: string, points: number): RateLimiterAbstract {
    const options = { keyPrefix: `carethread:login-failures:${name}`, points, duration: this.limits.lockoutSeconds };
    const memory = new RateLimiterMemory(options);
    return this.redis ? new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: memory }) : memory;
  }

  private refusal(counter: Counter, msLeft: number): GraphQLError {
    const seconds = Math.max(1, Math.ceil(msLeft / 1000));
    const minutes = Math.ceil(seconds / 60);
    return tooManyRequests(`Too many failed sign-ins ${counter.scope}; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, seconds);
  }
}
