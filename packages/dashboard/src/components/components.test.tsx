import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Budget } from '@agentik/shared';
import { ApiClient } from '../api/client';
import { identify, SignInPage } from '../pages/sign-in';
import { dailyBars, parseThresholds } from '../pages/costs';
import { buttonNamed, byLabel, click, render, typeInto } from '../test-utils';
import { BarChart, niceMax } from './bar-chart';
import { BudgetGauge } from './budget-gauge';
import { ErrorBoundary } from './error-boundary';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  vi.unstubAllGlobals();
});
async function mount(node: React.ReactNode) {
  const r = await render(node);
  cleanups.push(r.unmount);
  return r.container;
}

const budget = (over: Partial<Budget> = {}): Budget => ({
  monthlyLimitUsd: 10,
  hard: true,
  thresholds: [50, 80, 100],
  period: '2025-03',
  spentUsd: 8.5,
  reservedUsd: 0,
  remainingUsd: 1.5,
  ...over,
});

describe('BudgetGauge', () => {
  it('shows spend against the limit as a meter, warning past a threshold', async () => {
    const c = await mount(<BudgetGauge budget={budget()} />);
    const meter = c.querySelector('[role="meter"]')!;
    expect(meter.getAttribute('aria-valuenow')).toBe('85');
    expect(meter.className).toContain('gauge-warn');
    expect(c.textContent).toContain('$8.50 of $10.00 spent in 2025-03 (85%)');
    expect(c.querySelectorAll('.gauge-tick')).toHaveLength(3);
  });

  it('says so when there is no limit', async () => {
    const c = await mount(<BudgetGauge budget={budget({ monthlyLimitUsd: null, remainingUsd: null })} />);
    expect(c.querySelector('[role="meter"]')).toBeNull();
    expect(c.textContent).toContain('No monthly limit is set');
  });
});

describe('ErrorBoundary', () => {
  it('shows the error message instead of a blank page', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const Boom = () => {
      throw new Error('the page broke');
    };
    const c = await mount(
      <ErrorBoundary>
        <Boom />
      </ErrorBoundary>,
    );
    expect(c.querySelector('[role="alert"]')?.textContent).toContain('the page broke');
    expect(c.textContent).toContain('This page failed to display');
    spy.mockRestore();
  });
});

describe('BarChart', () => {
  it('draws one bar per value, scaled to a round maximum, with an accessible table', async () => {
    const c = await mount(<BarChart title="Spend" bars={[{ label: '2025-03-01', value: 1 }, { label: '2025-03-02', value: 3 }]} format={(v) => `$${v}`} />);
    const rects = c.querySelectorAll('rect');
    expect(rects).toHaveLength(2);
    expect(Number(rects[1]!.getAttribute('height'))).toBeGreaterThan(Number(rects[0]!.getAttribute('height')));
    expect(c.querySelector('title')?.textContent).toBe('Spend');
    expect(c.querySelector('table')?.textContent).toContain('2025-03-02$3');
    expect(niceMax(3)).toBe(5);
    expect(niceMax(0.00019)).toBeCloseTo(0.0002);
  });

  it('dailyBars fills the days without spend, up to today', () => {
    const bars = dailyBars(
      { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z', totalUsd: 2, inputTokens: 0, outputTokens: 0, calls: 2, groups: [{ key: '2025-03-02', usd: 2, inputTokens: 0, outputTokens: 0, calls: 2 }] },
      new Date('2025-03-04T10:00:00Z'),
    );
    expect(bars).toEqual([
      { label: '2025-03-01', value: 0 },
      { label: '2025-03-02', value: 2 },
      { label: '2025-03-03', value: 0 },
      { label: '2025-03-04', value: 0 },
    ]);
  });
});

describe('parseThresholds', () => {
  it('sorts the percentages, and refuses a part that is not one', () => {
    expect(parseThresholds('80, 50 100')).toEqual([50, 80, 100]);
    expect(parseThresholds('50, x')).toBeNull();
  });
});

describe('sign-in', () => {
  const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

  it('identifies the operator and each tenant role from one GET /api/session, probing no operator route', async () => {
    const urls: string[] = [];
    const client = (body: unknown) =>
      new ApiClient({ key: 'k' }, '', (async (url: string) => {
        urls.push(url);
        return reply(200, body);
      }) as unknown as typeof fetch);
    expect(await identify('k', false, client({ kind: 'operator', role: 'operator', keyId: 'key_op', tenant: null }))).toMatchObject({
      operator: true,
      admin: true,
      role: 'operator',
    });
    const tenant = { id: 'tenant_1', slug: 'acme', name: 'Acme', status: 'active' };
    expect(await identify('k', true, client({ kind: 'member', role: 'admin', keyId: 'key_a', tenant }))).toMatchObject({
      operator: false,
      admin: true,
      role: 'admin',
      keyId: 'key_a',
      remember: true,
      home: { slug: 'acme', name: 'Acme', status: 'active' },
    });
    expect(await identify('k', false, client({ kind: 'member', role: 'viewer', keyId: 'key_v', tenant }))).toMatchObject({ admin: false, role: 'viewer' });
    expect(urls).toEqual(['/api/session', '/api/session', '/api/session']);
  });

  it('shows the API message for an unknown key and stays on the form', async () => {
    vi.stubGlobal('fetch', async () => reply(401, { error: { code: 'UNAUTHENTICATED', message: 'unknown or revoked API key' } }));
    const signedIn = vi.fn();
    const c = await mount(<SignInPage onSignedIn={signedIn} />);
    await typeInto(byLabel(c, 'API key'), 'agk_wrong');
    await click(buttonNamed(c, 'Sign in'));
    await vi.waitFor(() => expect(c.querySelector('[role="alert"]')?.textContent).toContain('This key is not valid: it is unknown, revoked or expired.'));
    // Focus goes back to the key, ready for another try.
    expect(document.activeElement?.id).toBe('api-key');
    expect(signedIn).not.toHaveBeenCalled();
  });
});
