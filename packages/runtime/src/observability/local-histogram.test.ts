import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LocalHistogram } from './local-histogram.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: Array<[Record<'route' | 'status', string>, number]> = [
  [{ route: '/a', status: '200' }, 0.0005],
  [{ route: '/a', status: '200' }, 0.001], // on a bound: counted in that bucket
  [{ route: '/a', status: '200' }, 0.05],
  [{ route: '/a', status: '500' }, 2], // above every bound: only in +Inf
  [{ route: '/b "quoted"', status: '200' }, 0.2],
  [{ route: '/a', status: '200' }, 0],
];

describe('LocalHistogram', () => {
  it("exports the same text as prom-client's Histogram for the same observations", async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['route', 'status'], buckets: BOUNDS, registers: [theirs] });
    const ours = new Registry();
    const local = new LocalHistogram('h_seconds', 'help text', ['route', 'status'], BOUNDS, ours);
    for (const [labels, value] of OBSERVED) {
      reference.observe(labels, value);
      local.observe(labels, value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.001",route="/a",status="200"} 3');
    expect(text).toContain('h_seconds_count{route="/a",status="500"} 1');
  });

  it('keeps one series per label set, also through a held series', async () => {
    const registry = new Registry();
    const local = new LocalHistogram('stage_seconds', 'help', ['stage'], BOUNDS, registry);
    const route = local.labels({ stage: 'route' });
    route.observe(0.002);
    local.observe({ stage: 'route' }, 0.003);
    local.labels({ stage: 'execute' }).observe(0.5);
    const text = await registry.metrics();
    expect(text).toContain('stage_seconds_count{stage="route"} 2');
    expect(text).toContain('stage_seconds_bucket{le="0.01",stage="route"} 2');
    expect(text).toContain('stage_seconds_sum{stage="execute"} 0.5');
  });

  it('ignores values that are not finite numbers, and reset zeroes series that stay live', async () => {
    const registry = new Registry();
    const local = new LocalHistogram('x_seconds', 'help', ['stage'], BOUNDS, registry);
    const held = local.labels({ stage: 'a' });
    held.observe(Number.NaN);
    held.observe(Number.POSITIVE_INFINITY);
    held.observe(0.5);
    expect(await registry.metrics()).toContain('x_seconds_count{stage="a"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('x_seconds_count{stage="a"} 0');
    held.observe(0.5);
    expect(await registry.metrics()).toContain('x_seconds_count{stage="a"} 1');
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new LocalHistogram('bad', 'help', ['stage'], [0.1, 0.1], new Registry())).toThrow(/increase/);
  });
});
