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

/** How long an account that signed in from an address stays known there (under setTimeout's 24.8-day ceiling, which the in-memory store uses). */
const KNOWN_ADDRESS_SECONDS = 14 * 24 * 3600;

/**
 * Refuses sign-in (TOO_MANY_REQUESTS, with `retryAfterSeconds`) for
 * `lockoutSeconds` once an account, or an IP address, has failed
 * `maxFailuresPer...` times within that long; a try is counted before its
 * password is checked, and a success gives it back (and clears the account's
 * count). Unknown e-mail addresses count like real ones, so a lockout says
 * nothing about which accounts exist.
 *
 * An address's count binds only accounts that have not signed in from it in
 * the last KNOWN_ADDRESS_SECONDS (OWASP's device cookies, with the address as
 * the device): whoever guesses from a clinic's shared address slows down
 * strangers to it, never the staff who work there, and each account keeps
 * its own limit wherever its tries come from.
 *
 * With Redis the counts (and the known addresses) are shared by every
 * instance; while Redis is unreachable each instance counts on its own.
 */
export class LoginLimiter {
  private readonly redis: Redis | null;
  private readonly account: Counter;
  private readonly ip: Counter;
  /** Accounts known at an address, by `account ip`: rate-limiter-flexible's store, as set on each success. */
  private readonly known: RateLimiterAbstract;

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
    this.known = this.limiter('known', 1, KNOWN_ADDRESS_SECONDS);
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
   * Takes one try from the address's count (unless the account is known
   * there), then the account's, before `verify` (a password check for
   * `account`, from `ip`) runs, so that guesses sent at once are counted
   * before any is checked; then a true gives the try back (clears the
   * account's count, returns the address its try, makes the account known
   * there) and a false keeps it. What `verify` said, or TOO_MANY_REQUESTS when
   * either count has no try left (an address out of tries takes none from the
   * account), or when this failure was the last one allowed. Sign-in and
   * changePassword both go through it.
   */
  async attempt(account: string, ip: string, verify: () => Promise<boolean>): Promise<boolean> {
    const pair = `${account} ${ip}`;
    const known = (await this.known.get(pair)) !== null;
    const charged: [Counter, string][] = known ? [[this.account, account]] : [[this.ip, ip], [this.account, account]];
    for (const [counter, key] of charged) {
      const state = await counter.limiter.consume(key).catch((rejected: unknown) => {
        if (rejected instanceof RateLimiterRes) return rejected;
        throw rejected;
      });
      if (state.consumedPoints > counter.limiter.points) throw this.refusal(counter, state.msBeforeNext);
    }
    if (await verify()) {
      await this.account.limiter.delete(account);
      if (!known) await this.ip.limiter.reward(ip, 1);
      await this.known.set(pair, 1, KNOWN_ADDRESS_SECONDS);
      return true;
    }
    await this.failed(charged);
    return false;
  }

  /** Drops the Redis connection at once: the counts live in Redis, and a stalled Redis would never answer QUIT. */
  close(): void {
    this.redis?.disconnect();
  }

  /** The failure was counted when its try was taken: TOO_MANY_REQUESTS when it was the last one allowed (the lockout starts). */
  private async failed(charged: [Counter, string][]): Promise<void> {
    let refusal: GraphQLError | null = null;
    for (const [counter, key] of charged) {
      const state = await counter.limiter.get(key);
      if (state && state.consumedPoints >= counter.limiter.points) {
        await counter.limiter.block(key, this.limits.lockoutSeconds);
        refusal ??= this.refusal(counter, this.limits.lockoutSeconds * 1000);
      }
    }
    if (refusal) throw refusal;
  }

  private limiter(name: string, points: number, duration = this.limits.lockoutSeconds): RateLimiterAbstract {
    const options = { keyPrefix: `carethread:login-failures:${name}`, points, duration };
    const memory = new RateLimiterMemory(options);
    return this.redis ? new RateLimiterRedis({ ...options, storeClient: this.redis, insuranceLimiter: memory }) : memory;
  }

  private refusal(counter: Counter, msLeft: number): GraphQLError {
    const seconds = Math.max(1, Math.ceil(msLeft / 1000));
    const minutes = Math.ceil(seconds / 60);
    return tooManyRequests(`Too many failed sign-ins ${counter.scope}; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, seconds);
  }
}
