import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';

let llm: FakeLlm;
let rt: TestRuntime;

beforeAll(async () => {
  llm = await startFakeLlm({ instant: true });
  // Anthropic at the fake: its models are priced, so a reply costs something.
  rt = await startTestRuntime({ AGENTIK_ANTHROPIC_BASE_URL: llm.url, AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test' });
});

afterAll(async () => {
  await rt?.close();
  await llm?.close();
});

describe('GET /api/tenant-usage', () => {
  it("gives each tenant's spend of the month and live keys, suspended ones included, deleted and unknown left out", async () => {
    const a = await rt.createTenant({ name: 'Usage A', slug: 'usage-a' });
    const b = await rt.createTenant({ name: 'Usage B', slug: 'usage-b' });
    const gone = await rt.createTenant({ name: 'Usage gone', slug: 'usage-gone' });
    const keyA = await rt.createKey(a.id, 'owner');
    await rt.createKey(a.id, 'viewer');
    await rt.createKey(b.id, 'owner');
    const agent = (await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(keyA), payload: { name: 'bot', systemPrompt: '', provider: 'anthropic', model: 'claude-sonnet-4-5' } })).json() as { id: string };
    expect((await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: bearer(keyA), payload: { content: 'hi' } })).statusCode).toBe(200);
    const spent = ((await rt.app.inject({ method: 'GET', url: '/api/budget', headers: bearer(keyA) })).json() as { spentUsd: number }).spentUsd;
    expect(spent).toBeGreaterThan(0);
    await rt.app.inject({ method: 'POST', url: `/api/tenants/${b.id}/suspend`, headers: rt.operator() });
    await rt.app.inject({ method: 'DELETE', url: `/api/tenants/${gone.id}`, headers: rt.operator() });

    const res = await rt.app.inject({ method: 'GET', url: `/api/tenant-usage?ids=${a.id},usage-b,${gone.id},nope`, headers: rt.operator() });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { period: string; data: unknown[] };
    expect(body.period).toMatch(/^\d{4}-\d{2}$/);
    expect(body.data).toEqual([
      { id: a.id, spentUsd: spent, liveKeys: 2 },
      { id: b.id, spentUsd: 0, liveKeys: 1 },
    ]);
  });

  it('is for the operator only', async () => {
    const t = await rt.createTenant({ name: 'Usage C', slug: 'usage-c' });
    const key = await rt.createKey(t.id, 'owner');
    const res = await rt.app.inject({ method: 'GET', url: `/api/tenant-usage?ids=${t.id}`, headers: bearer(key) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });
});
