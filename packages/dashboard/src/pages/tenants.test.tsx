import { afterEach, describe, expect, it } from 'vitest';
import type { Tenant } from '@agentik/shared';
import { render } from '../test-utils';
import { limitDrafts, limitsPatch, LimitsSummary } from './tenants';

const tenant = (over: Partial<Tenant['limits']> = {}): Tenant => ({
  id: 'tenant_01',
  slug: 'acme',
  name: 'Acme',
  owner: 'ops@acme.example',
  plan: 'free',
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  deletedAt: null,
  limits: {
    requestsPerMinute: { value: 60, source: 'plan' },
    maxConcurrentCalls: { value: 4, source: 'plan' },
    maxAgents: { value: 10, source: 'plan' },
    maxKeys: { value: 10, source: 'plan' },
    ...over,
  },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('tenant limits', () => {
  it('shows each effective limit with its source', async () => {
    const r = await render(<LimitsSummary tenant={tenant({ requestsPerMinute: { value: 120_000, source: 'override' } })} />);
    cleanups.push(r.unmount);
    const rpm = r.container.querySelector('[data-testid="limit-acme-requestsPerMinute"]')!;
    expect(rpm.textContent).toBe('Requests per minute: 120,000 override');
    expect(rpm.querySelector('.badge')?.textContent).toBe('override');
    expect(r.container.querySelector('[data-testid="limit-acme-maxKeys"]')!.textContent).toBe('API keys: 10 plan');
  });

  it('starts the form with the overrides only: empty means the plan', () => {
    expect(limitDrafts(tenant({ maxKeys: { value: 3, source: 'override' } }))).toEqual({
      requestsPerMinute: '',
      maxConcurrentCalls: '',
      maxAgents: '',
      maxKeys: '3',
    });
  });

  it('sends what changed: a new number sets, an emptied override clears (null), the plan when changed', () => {
    const t = tenant({ maxKeys: { value: 3, source: 'override' }, maxAgents: { value: 7, source: 'override' } });
    const drafts = { ...limitDrafts(t), requestsPerMinute: ' 120000 ', maxKeys: '' };
    expect(limitsPatch(t, 'pro', drafts)).toEqual({ plan: 'pro', limits: { requestsPerMinute: 120_000, maxKeys: null } });
    // Nothing changed: an empty body.
    expect(limitsPatch(t, 'free', limitDrafts(t))).toEqual({});
  });

  it('refuses what the API would refuse, naming the field', () => {
    for (const bad of ['0', '-1', '1.5', 'ten', '1000000001']) {
      expect(() => limitsPatch(tenant(), 'free', { ...limitDrafts(tenant()), maxAgents: bad })).toThrow(/^Agents: a whole number/);
    }
  });
});
