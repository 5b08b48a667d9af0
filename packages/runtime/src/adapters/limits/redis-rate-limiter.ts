import { Redis } from 'ioredis';
import { AppError } from '../../lib/app-error.js';
import type { RateDecision, RateLimiter } from '../../limits/rate-limiter.js';
import { minuteOf, slidingWindowDecision } from '../../limits/sliding-window.js';

/** Counters outlive their minute by one more, the span the sliding window looks back. */
const KEY_TTL_MS = 120_000;

/**
 * A rate limiter shared by every replica through Redis: per tenant and minute one counter key.
 * Each request is ONE round trip, a MULTI of INCR (this minute), GET (previous minute) and
 * PEXPIRE; a refused request is taken back with DECR. When Redis cannot be reached the request
 * is refused with SERVICE_UNAVAILABLE rather than let through unlimited.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  /**
   * @param url `redis://[:password@]host:port[/db]` or `rediss://...`
   * @param now the clock (tests freeze it)
   */
  constructor(
    url: string,
    private readonly now: () => number = Date.now,
    private readonly prefix = 'agentik:rl:',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, lazyConnect: true });
    // Connection errors surface on the commands that fail; the client reconnects by itself.
    this.redis.on('error', () => undefined);
  }

  async take(tenantId: string, perMinute: number): Promise<RateDecision> {
    const { minute, elapsed } = minuteOf(this.now());
    const key = `${this.prefix}${tenantId}:${minute}`;
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.redis.multi().incr(key).get(`${this.prefix}${tenantId}:${minute - 1}`).pexpire(key, KEY_TTL_MS).exec();
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'the rate limiter (Redis) is not reachable');
    }
    const failed = !replies || replies.some(([error]) => error !== null);
    if (failed) throw new AppError('SERVICE_UNAVAILABLE', 'the rate limiter (Redis) failed');
    const current = Number(replies![0]![1]);
    const previous = Number(replies![1]![1] ?? 0);
    const decision = slidingWindowDecision(elapsed, current, previous, perMinute);
    // A failed DECR only over-counts one refused request until the key expires; the refusal stands.
    if (!decision.allowed) await this.redis.decr(key).catch(() => undefined);
    return decision;
  }

  /** Closes the connection (the app's onClose). */
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
