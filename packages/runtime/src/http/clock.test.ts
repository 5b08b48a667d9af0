import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, type TestRuntime } from '../test-support/harness.js';

/** The app reads one clock, given to buildApp: tenants, agents, budgets and audits all see it. */
const T = Date.parse('2031-05-17T08:30:00.000Z');
let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' }, { now: () => T });
});
afterAll(async () => {
  await rt.close();
});

describe('the injected clock', () => {
  it('dates what the manager, the routes and the services write, and picks the budget month', async () => {
    const t = await rt.createTenant({ name: 'Timely' });
    const key = await rt.createKey(t.id);
    const h = bearer(key);
    expect((await rt.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() })).json()).toMatchObject({ createdAt: '2031-05-17T08:30:00.000Z' });
    const agent = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: h, payload: { name: 'bot', systemPrompt: 'x', provider: 'ollama', model: 'm' } });
    expect(agent.json()).toMatchObject({ createdAt: '2031-05-17T08:30:00.000Z', updatedAt: '2031-05-17T08:30:00.000Z' });
    expect((await rt.app.inject({ method: 'GET', url: '/api/budget', headers: h })).json()).toMatchObject({ period: '2031-05' });
    expect((await rt.app.inject({ method: 'GET', url: '/api/costs/summary', headers: h })).json()).toMatchObject({ from: '2031-05-01T00:00:00.000Z', to: '2031-06-01T00:00:00.000Z' });
    const audit = (await rt.app.inject({ method: 'GET', url: '/api/audit', headers: h })).json() as { data: { at: string }[] };
    expect(audit.data.length).toBeGreaterThan(0);
    for (const entry of audit.data) expect(entry.at).toBe('2031-05-17T08:30:00.000Z');
  });
});
