import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartDir, examplesDir } from './paths.js';
import { helm, renderError, renderText, type RenderOptions } from './helm.js';

// The README promises Helm 3.8+. The oldest Helm that can be had here is 3.9.4, built with Go
// 1.17 like 3.8: its template engine evaluates every argument of `and`/`or`, where 3.17's stops
// early. Whatever renders must render byte for byte the same on both, and fail the same way.
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();

describe('Helm 3.9.4, the oldest Helm available here', () => {
  it('is that release', () => {
    expect(helm(['version', '--short'], 'oldest').stdout).toMatch(/^v3\.9\.4\+/);
  });

  it('lints the chart strictly', () => {
    const result = helm(['lint', '--strict', chartDir], 'oldest');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.status).toBe(0);
  });

  const scenarios: [string, RenderOptions][] = [
    ['the defaults', {}],
    ...examples.map((e): [string, RenderOptions] => [`examples/${e}`, { examples: [e], apiVersions: ['monitoring.coreos.com/v1'] }]),
    ['Postgres with inline keys and Redis', { set: { 'runtime.storage': 'postgres', 'runtime.replicas': 3, 'postgres.existingSecret': 'db', 'secrets.operatorKey': 'k'.repeat(40), 'secrets.encryptionKey': 'ab'.repeat(32), 'redis.url': 'redis://r:6379' } }],
  ];
  it.each(scenarios)('renders %s exactly as Helm 3.17.3 does', (_name, options) => {
    expect(renderText(options, 'oldest')).toBe(renderText(options));
  });

  it.each([
    ['SQLite with 3 replicas', { 'runtime.replicas': 3 }, 'runtime.replicas=3 needs runtime.storage=postgres'],
    ['a misspelled value', { 'runtime.replica': 3 }, 'runtime: Additional property replica is not allowed'],
    ['Postgres without secrets', { 'runtime.storage': 'postgres' }, 'needs postgres.existingSecret'],
    ['HPA min above max', { 'dashboard.autoscaling.enabled': true, 'dashboard.autoscaling.minReplicas': 9 }, 'is above dashboard.autoscaling.maxReplicas=5'],
  ] as const)('fails for %s with the same message', (_name, set, message) => {
    expect(renderError({ set }, 'oldest')).toContain(message);
  });
});
