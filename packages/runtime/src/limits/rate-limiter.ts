import { minuteOf, slidingWindowDecision, type RateDecision } from './sliding-window.js';

export type { RateDecision } from './sliding-window.js';

/** Per-tenant requests-per-minute limiting; implementations may be local or shared by replicas. */
export interface RateLimiter {
  /** Counts one request of `tenantId` against `perMinute`, unless that would pass it. */
  take(tenantId: string, perMinute: number): Promise<RateDecision>;
}

/**
 * A sliding-window counter kept in this process: the count of the current minute plus the
 * previous minute's count weighted by how much of it still overlaps the window. O(1) per call.
 * Enough for one runtime process; several replicas need a shared limiter (database or Redis).
 */
export class LocalRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { minute: number; current: number; previous: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(tenantId: string, perMinute: number): Promise<RateDecision> {
    const { minute, elapsed } = minuteOf(this.now());
    let w = this.windows.get(tenantId);
    if (!w || w.minute < minute - 1) w = { minute, current: 0, previous: 0 };
    else if (w.minute === minute - 1) w = { minute, current: 0, previous: w.current };
    this.windows.set(tenantId, w);
    const decision = slidingWindowDecision(elapsed, w.current + 1, w.previous, perMinute);
    if (decision.allowed) w.current += 1;
    return decision;
  }
}
