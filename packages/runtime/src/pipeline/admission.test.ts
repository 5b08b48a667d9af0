import { describe, expect, it } from 'vitest';
import { LocalConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import type { TenantContext } from '../tenants/context.js';
import type { TenantRecord } from '../storage/records.js';
import { admit } from './admission.js';
import type { PipelineContext } from './context.js';
import type { PipelineDeps } from './deps.js';

const tenantRecord = { id: 'tnt_1', slug: 'acme', plan: 'free', limitOverrides: {} } as unknown as TenantRecord;
const context = () => ({ tenant: { tenant: tenantRecord } as TenantContext, leases: [] }) as unknown as PipelineContext;

function deps(allowed: boolean, concurrency = new LocalConcurrencyLimiter()): PipelineDeps {
  return {
    rateLimiter: { take: async () => ({ allowed, retryAfterSeconds: 7 }) },
    concurrency,
  } as unknown as PipelineDeps;
}

describe('admit', () => {
  it('holds one concurrency slot for the run', async () => {
    const ctx = context();
    await admit(ctx, deps(true));
    expect(ctx.leases).toHaveLength(1);
    ctx.leases[0]!.release();
  });

  it('refuses past the rate limit with its retry-after, and takes no slot', async () => {
    const ctx = context();
    await expect(admit(ctx, deps(false))).rejects.toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '7' } });
    expect(ctx.leases).toEqual([]);
  });

  it('refuses when every concurrent slot of the tenant is taken', async () => {
    const limiter = new LocalConcurrencyLimiter();
    const held = [];
    for (;;) {
      const ctx = context();
      const refused = await admit(ctx, deps(true, limiter)).catch((e: unknown) => e);
      if (refused) {
        expect(refused).toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '1' } });
        break;
      }
      held.push(...ctx.leases);
      expect(held.length).toBeLessThan(1000);
    }
    expect(held.length).toBeGreaterThan(0);
    for (const l of held) l.release();
  });
});
