/** The answer of a rate limiter: allowed, or how long to wait. */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until a request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/** The minute (epoch ms / 60 000) a time falls in, and how far into it (0..1). */
export function minuteOf(at: number): { minute: number; elapsed: number } {
  return { minute: Math.floor(at / 60_000), elapsed: (at % 60_000) / 60_000 };
}

/**
 * The sliding-window estimate shared by the limiters: the current minute's count (this request
 * included) plus the previous minute's, weighted by how much of it the last 60 s still cover.
 */
export function slidingWindowDecision(elapsed: number, current: number, previous: number, perMinute: number): RateDecision {
  const estimate = previous * (1 - elapsed) + current;
  if (estimate > perMinute) {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - elapsed) * 60)) };
  }
  return { allowed: true, retryAfterSeconds: 0 };
}
