import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../lib/app-error.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter, type Lease } from './concurrency-limiter.js';
import { RedisConcurrencyLimiter } from '../adapters/limits/redis-concurrency-limiter.js';

/** The Redis ones run against the real Redis on loopback (CI starts it), under a random prefix. */
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const prefix = `agentik:test:cc:${randomBytes(4).toString('hex')}:`;
const closers: Array<() => Promise<void>> = [];

function redisLimiter(ttlMs = 30_000): RedisConcurrencyLimiter {
  const l = new RedisConcurrencyLimiter(REDIS_URL, ttlMs, prefix);
  closers.push(() => l.close());
  return l;
}

afterAll(async () => {
  for (const close of closers) await close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function takeAll(limiters: ConcurrencyLimiter[], key: string, limit: number, n: number): Promise<Lease[]> {
  const got = await Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length]!.acquire(key, limit)));
  return got.filter((l): l is Lease => l !== undefined);
}

describe('LocalConcurrencyLimiter', () => {
  it('hands out at most `limit` slots per key and takes each back once', async () => {
    const l = new LocalConcurrencyLimiter();
    const leases = await takeAll([l], 'tn_a', 3, 5);
    expect(leases).toHaveLength(3);
    expect(await l.acquire('tn_b', 3)).toBeDefined();
    leases[0]!.release();
    leases[0]!.release(); // twice: still one slot back, not two
    expect(await l.held('tn_a')).toBe(2);
    expect(await takeAll([l], 'tn_a', 3, 3)).toHaveLength(1);
  });
});

describe('RedisConcurrencyLimiter', () => {
  it('counts slots across limiters (replicas) and frees them on release', async () => {
    const r1 = redisLimiter();
    const r2 = redisLimiter();
    const leases = await takeAll([r1, r2], 'tn_a', 4, 10);
    expect(leases).toHaveLength(4);
    expect(await r2.held('tn_a')).toBe(4);
    leases[0]!.release();
    await sleep(50);
    expect(await r1.acquire('tn_a', 4)).toBeDefined();
    expect(await r2.acquire('tn_a', 4)).toBeUndefined();
  });

  it("gives a crashed replica's slots back once its leases expire, while a live replica keeps its own", async () => {
    const live = redisLimiter(400);
    const crashed = new RedisConcurrencyLimiter(REDIS_URL, 400, prefix);
    const kept = await live.acquire('tn_c', 2);
    expect(await crashed.acquire('tn_c', 2)).toBeDefined();
    expect(await live.acquire('tn_c', 2)).toBeUndefined();
    // The "crash": it stops renewing without releasing anything.
    await crashed.close();
    await sleep(1_000);
    // The live lease was renewed meanwhile (held for longer than its TTL), the crashed one expired.
    expect(await live.held('tn_c')).toBe(1);
    expect(await live.acquire('tn_c', 2)).toBeDefined();
    kept!.release();
  });

  it('refuses with SERVICE_UNAVAILABLE when Redis cannot be reached', async () => {
    const down = new RedisConcurrencyLimiter('redis://127.0.0.1:1/0', 1_000, prefix);
    try {
      const error = await down.acquire('tn_a', 5).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});
