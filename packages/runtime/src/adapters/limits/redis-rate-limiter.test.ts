import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/app-error.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

/** Against the real Redis on loopback (CI starts it); keys live under a random prefix. */
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const prefix = `agentik:test:${randomBytes(4).toString('hex')}:`;
const MINUTE = 60_000 * 29_000_000;
let now = MINUTE + 15_000;
const limiter = new RedisRateLimiter(REDIS_URL, () => now, prefix);

afterAll(async () => {
  await limiter.close();
});

describe('RedisRateLimiter', () => {
  it('shares one sliding window between limiters (replicas) and refuses past the limit', async () => {
    const other = new RedisRateLimiter(REDIS_URL, () => now, prefix);
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? limiter : other).take('tn_a', 7)));
      expect(results.filter((r) => r.allowed)).toHaveLength(7);
      expect(results.find((r) => !r.allowed)).toEqual({ allowed: false, retryAfterSeconds: 45 });
      expect((await other.take('tn_b', 7)).allowed).toBe(true);
      // 45 s into the next minute the previous 7 still weigh 1.75: 5 more fit, not 7.
      now = MINUTE + 60_000 + 45_000;
      const next = await Promise.all(Array.from({ length: 7 }, () => other.take('tn_a', 7)));
      expect(next.filter((r) => r.allowed)).toHaveLength(5);
    } finally {
      await other.close();
    }
  });

  it('refuses with SERVICE_UNAVAILABLE when Redis cannot be reached', async () => {
    const down = new RedisRateLimiter('redis://127.0.0.1:1/0', () => now, prefix);
    try {
      const error = await down.take('tn_a', 5).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});
