import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MODEL_LABELS, Metrics, OTHER_MODEL } from '../src/observability/metrics.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

/** Cost and token counters in /metrics: by provider and model, by tenant only when turned on. */

/** Every sample of `name` as [labels, value]. */
function samples(text: string, name: string): Array<[Record<string, string>, number]> {
  const out: Array<[Record<string, string>, number]> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    out.push([labels, Number(match[3])]);
  }
  return out;
}

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(text, name).filter(([have]) => JSON.stringify(have) === JSON.stringify(labels));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.[1];
}

const USAGE_METRICS = ['agentik_cost_usd_total', 'agentik_tokens_total', 'agentik_model_calls_total'];

async function runtimeWithLlm(llm: FakeLlm, env: NodeJS.ProcessEnv = {}) {
  return startTestRuntime({ AGENTIK_OLLAMA_URL: llm.url, AGENTIK_ANTHROPIC_BASE_URL: llm.url, AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test', ...env });
}

/** A tenant with an agent on `provider`/`model`; returns a function that sends it one message. */
async function tenantAgent(rt: TestRuntime, slug: string, provider: string, model: string) {
  const t = await rt.createTenant({ name: slug, slug });
  const key = await rt.createKey(t.id);
  const created = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'bot', systemPrompt: 'be nice', provider, model } });
  expect(created.statusCode, created.body).toBe(201);
  return async () => {
    const res = await rt.app.inject({ method: 'POST', url: `/api/agents/${created.json().id}/messages`, headers: bearer(key), payload: { content: 'hi' } });
    expect(res.statusCode, res.body).toBe(200);
  };
}

async function metricsText(rt: TestRuntime): Promise<string> {
  const res = await rt.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

describe('usage metrics, default (no tenant label)', () => {
  let llm: FakeLlm;
  let rt: TestRuntime;
  beforeAll(async () => {
    llm = await startFakeLlm();
    rt = await runtimeWithLlm(llm);
  });
  afterAll(async () => {
    await rt.close();
    await llm.close();
  });

  it('counts cost, tokens and calls by provider and model, summed over tenants', async () => {
    const before = await metricsText(rt);
    for (const name of USAGE_METRICS) expect(before).toContain(`# TYPE ${name} counter`);
    const acme = await tenantAgent(rt, 'acme', 'anthropic', 'claude-sonnet-4-5');
    const globex = await tenantAgent(rt, 'globex', 'anthropic', 'claude-sonnet-4-5');
    const local = await tenantAgent(rt, 'initech', 'ollama', 'llama3.2');
    await acme();
    await acme();
    await globex();
    await local();
    const text = await metricsText(rt);
    const sonnet = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
    // The fake reports 24 input and 8 output tokens; Sonnet 4.5 costs 3 and 15 USD per million.
    expect(value(text, 'agentik_cost_usd_total', sonnet)).toBeCloseTo(3 * (24 * 3 + 8 * 15) / 1e6, 12);
    expect(value(text, 'agentik_tokens_total', { ...sonnet, direction: 'input' })).toBe(72);
    expect(value(text, 'agentik_tokens_total', { ...sonnet, direction: 'output' })).toBe(24);
    expect(value(text, 'agentik_model_calls_total', { ...sonnet, outcome: 'ok' })).toBe(3);
    // A free local model: its series exist with zero cost, so cost panels list it.
    const llama = { provider: 'ollama', model: 'llama3.2' };
    expect(value(text, 'agentik_cost_usd_total', llama)).toBe(0);
    expect(value(text, 'agentik_tokens_total', { ...llama, direction: 'output' })).toBe(8);
    for (const name of USAGE_METRICS) {
      for (const [labels] of samples(text, name)) expect(Object.keys(labels)).not.toContain('tenant');
    }
    expect(text).not.toContain('acme');
    expect(rt.logs.some((l) => l.includes('AGENTIK_METRICS_TENANT_LABELS'))).toBe(false);
  });
});

describe('usage metrics with AGENTIK_METRICS_TENANT_LABELS=true', () => {
  let llm: FakeLlm;
  let rt: TestRuntime;
  beforeAll(async () => {
    llm = await startFakeLlm();
    rt = await runtimeWithLlm(llm, { AGENTIK_METRICS_TENANT_LABELS: 'true' });
  });
  afterAll(async () => {
    await rt.close();
    await llm.close();
  });

  it('warns about cardinality at start', () => {
    const warning = rt.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes('AGENTIK_METRICS_TENANT_LABELS'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/series per tenant/);
  });

  it('adds the tenant slug as a label', async () => {
    const acme = await tenantAgent(rt, 'acme', 'anthropic', 'claude-sonnet-4-5');
    const globex = await tenantAgent(rt, 'globex', 'anthropic', 'claude-sonnet-4-5');
    await acme();
    await acme();
    await globex();
    const text = await metricsText(rt);
    const sonnet = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
    expect(value(text, 'agentik_model_calls_total', { ...sonnet, tenant: 'acme', outcome: 'ok' })).toBe(2);
    expect(value(text, 'agentik_model_calls_total', { ...sonnet, tenant: 'globex', outcome: 'ok' })).toBe(1);
    expect(value(text, 'agentik_tokens_total', { ...sonnet, tenant: 'globex', direction: 'input' })).toBe(24);
    expect(value(text, 'agentik_cost_usd_total', { ...sonnet, tenant: 'acme' })).toBeCloseTo(2 * (24 * 3 + 8 * 15) / 1e6, 12);
  });
});

describe('model label bound', () => {
  it(`keeps the first ${MAX_MODEL_LABELS} models and folds the rest into "${OTHER_MODEL}"`, async () => {
    const metrics = new Metrics({ tenantCounts: async () => ({ active: 0, suspended: 0, deleted: 0 }), poolStats: () => ({ size: 0, capacity: 1, evictions: 0 }) });
    const call = (model: string) =>
      metrics.recordUsage({ provider: 'openai', model, tenant: 't', inputTokens: 1, outputTokens: 2, costUsd: 0.5, outcome: 'ok' });
    for (let i = 0; i < MAX_MODEL_LABELS + 10; i++) call(`model-${i}`);
    call('model-0');
    call('x'.repeat(500));
    const text = await metrics.registry.metrics();
    const calls = samples(text, 'agentik_model_calls_total');
    expect(calls).toHaveLength(MAX_MODEL_LABELS + 1);
    expect(value(text, 'agentik_model_calls_total', { provider: 'openai', model: 'model-0', outcome: 'ok' })).toBe(2);
    expect(value(text, 'agentik_model_calls_total', { provider: 'openai', model: OTHER_MODEL, outcome: 'ok' })).toBe(11);
    expect(value(text, 'agentik_cost_usd_total', { provider: 'openai', model: OTHER_MODEL })).toBe(5.5);
    expect(value(text, 'agentik_tokens_total', { provider: 'openai', model: OTHER_MODEL, direction: 'output' })).toBe(22);
    // Usage the provider did not report adds no tokens and unknown cost adds no cost.
    metrics.recordUsage({ provider: 'openai', model: 'model-1', tenant: 't', inputTokens: null, outputTokens: null, costUsd: null, outcome: 'aborted' });
    const after = await metrics.registry.metrics();
    expect(value(after, 'agentik_model_calls_total', { provider: 'openai', model: 'model-1', outcome: 'aborted' })).toBe(1);
    expect(value(after, 'agentik_tokens_total', { provider: 'openai', model: 'model-1', direction: 'input' })).toBe(1);
    expect(value(after, 'agentik_cost_usd_total', { provider: 'openai', model: 'model-1' })).toBe(0.5);
  });
});
