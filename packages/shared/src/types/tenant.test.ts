import { describe, expect, it } from 'vitest';
import { effectiveLimits, limitValues, PLAN_LIMITS, UpdateTenantBody } from './tenant.js';

describe('tenant limits', () => {
  it('takes each override over the plan, and says where each value comes from', () => {
    expect(limitValues('pro', { requestsPerMinute: 5 })).toEqual({ ...PLAN_LIMITS.pro, requestsPerMinute: 5 });
    expect(effectiveLimits('free', { maxKeys: 50 })).toEqual({
      maxAgents: { value: PLAN_LIMITS.free.maxAgents, source: 'plan' },
      maxKeys: { value: 50, source: 'override' },
      requestsPerMinute: { value: PLAN_LIMITS.free.requestsPerMinute, source: 'plan' },
      maxConcurrentCalls: { value: PLAN_LIMITS.free.maxConcurrentCalls, source: 'plan' },
    });
  });

  it('UpdateTenantBody takes positive integers or null, and refuses anything else', () => {
    expect(UpdateTenantBody.parse({ plan: 'pro', limits: { requestsPerMinute: 120_000, maxKeys: null } })).toEqual({
      plan: 'pro',
      limits: { requestsPerMinute: 120_000, maxKeys: null },
    });
    expect(UpdateTenantBody.parse({})).toEqual({});
    for (const bad of [
      { limits: { maxAgents: 0 } },
      { limits: { maxAgents: -1 } },
      { limits: { maxAgents: 2.5 } },
      { limits: { maxAgents: '3' } },
      { limits: { other: 3 } },
      { plan: 'gold' },
      { slug: 'x' },
    ]) {
      expect(UpdateTenantBody.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
