import { describe, expect, it } from 'vitest';
import { LocalRateLimiter } from './rate-limiter.js';

function clock(start: number) {
  let t = start;
  return { now: () => t, set: (ms: number) => void (t = ms), advance: (ms: number) => void (t += ms) };
}

async function takeN(limiter: LocalRateLimiter, tenant: string, perMinute: number, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await limiter.take(tenant, perMinute));
  return out;
}

const MINUTE = 60_000;

describe('LocalRateLimiter', () => {
  it('allows exactly perMinute calls in a fresh minute, then says how long to wait', async () => {
    const c = clock(10 * MINUTE + 15_000);
    const limiter = new LocalRateLimiter(c.now);
    const decisions = await takeN(limiter, 't1', 60, 61);
    expect(decisions.slice(0, 60).every((d) => d.allowed && d.retryAfterSeconds === 0)).toBe(true);
    expect(decisions[60]).toEqual({ allowed: false, retryAfterSeconds: 45 });
  });

  it('counts tenants apart', async () => {
    const c = clock(5 * MINUTE);
    const limiter = new LocalRateLimiter(c.now);
    await takeN(limiter, 'a', 3, 3);
    expect((await limiter.take('a', 3)).allowed).toBe(false);
    expect((await limiter.take('b', 3)).allowed).toBe(true);
  });

  it("weights the previous minute's count by how much of it still overlaps", async () => {
    const c = clock(20 * MINUTE);
    const limiter = new LocalRateLimiter(c.now);
    await takeN(limiter, 't', 10, 10);
    // A quarter into the next minute, 75% of the previous 10 still count: 2 more fit, not 3.
    c.set(21 * MINUTE + 15_000);
    const next = await takeN(limiter, 't', 10, 3);
    expect(next.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(next[2]!.retryAfterSeconds).toBe(45);
  });

  it('forgets everything after two idle minutes', async () => {
    const c = clock(30 * MINUTE);
    const limiter = new LocalRateLimiter(c.now);
    await takeN(limiter, 't', 5, 5);
    expect((await limiter.take('t', 5)).allowed).toBe(false);
    c.set(32 * MINUTE + 1);
    const again = await takeN(limiter, 't', 5, 6);
    expect(again.filter((d) => d.allowed)).toHaveLength(5);
  });

  it('never asks to wait less than one second', async () => {
    const c = clock(40 * MINUTE + 59_999);
    const limiter = new LocalRateLimiter(c.now);
    await limiter.take('t', 1);
    expect(await limiter.take('t', 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('refused calls do not count', async () => {
    const c = clock(50 * MINUTE);
    const limiter = new LocalRateLimiter(c.now);
    await takeN(limiter, 't', 2, 50);
    c.advance(MINUTE);
    // Only the 2 allowed calls weigh on the next minute (fully, at its very start).
    expect((await limiter.take('t', 3)).allowed).toBe(true);
    expect((await limiter.take('t', 3)).allowed).toBe(false);
  });

  it('uses the wall clock by default', async () => {
    expect((await new LocalRateLimiter().take('t', 1)).allowed).toBe(true);
  });
});
