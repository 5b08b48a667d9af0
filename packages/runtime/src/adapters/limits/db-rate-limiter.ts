import type { RateWindowRepository } from '../../storage/port.js';
import type { RateDecision, RateLimiter } from '../../limits/rate-limiter.js';
import { minuteOf, slidingWindowDecision } from '../../limits/sliding-window.js';

/**
 * A rate limiter whose counters live in the master database, shared by every replica: one
 * atomic upsert per request (`INSERT ... ON CONFLICT DO UPDATE SET count = count + 1
 * RETURNING`), so concurrent requests on any replica each see a distinct count. A refused request
 * is taken back, as the in-process limiter does not count it either. Used for Postgres
 * deployments without Redis.
 */
export class DatabaseRateLimiter implements RateLimiter {
  constructor(
    private readonly windows: RateWindowRepository,
    private readonly now: () => number = Date.now,
  ) {}

  async take(tenantId: string, perMinute: number): Promise<RateDecision> {
    const { minute, elapsed } = minuteOf(this.now());
    const { current, previous } = await this.windows.increment(tenantId, minute);
    // The first request of a minute clears what no window can reach any more.
    if (current === 1) await this.windows.prune(tenantId, minute - 1);
    const decision = slidingWindowDecision(elapsed, current, previous, perMinute);
    if (!decision.allowed) await this.windows.decrement(tenantId, minute);
    return decision;
  }
}
