import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';

let rt: TestRuntime;

beforeAll(async () => {
  // Ollama is always configured; Anthropic only because its key is set here.
  rt = await startTestRuntime({ AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-not-used' });
});

afterAll(async () => {
  await rt?.close();
});

describe('GET /api/session', () => {
  it('tells the operator key from a tenant key and gives the role and tenant', async () => {
    const op = await rt.app.inject({ method: 'GET', url: '/api/session', headers: rt.operator() });
    expect(op.statusCode).toBe(200);
    expect(op.json()).toMatchObject({ kind: 'operator', role: 'operator', tenant: null });

    const t = await rt.createTenant({ name: 'Session Co', slug: 'session-co' });
    const viewer = await rt.createKey(t.id, 'viewer');
    const res = await rt.app.inject({ method: 'GET', url: '/api/session', headers: bearer(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'member', role: 'viewer', tenant: { id: t.id, slug: 'session-co', name: 'Session Co', status: 'active' } });
  });

  it("shows a suspended tenant's status to its own key, where tenant routes say TENANT_NOT_FOUND", async () => {
    const t = await rt.createTenant({ name: 'Paused', slug: 'paused-co' });
    const owner = await rt.createKey(t.id, 'owner');
    expect((await rt.app.inject({ method: 'POST', url: `/api/tenants/${t.id}/suspend`, headers: rt.operator() })).statusCode).toBe(200);
    const res = await rt.app.inject({ method: 'GET', url: '/api/session', headers: bearer(owner) });
    expect(res.json()).toMatchObject({ role: 'owner', tenant: { slug: 'paused-co', status: 'suspended' } });
    const agents = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(owner) });
    expect(agents.json()).toMatchObject({ error: { code: 'TENANT_NOT_FOUND' } });
  });

  it('refuses a missing or revoked key with UNAUTHENTICATED', async () => {
    const none = await rt.app.inject({ method: 'GET', url: '/api/session' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const t = await rt.createTenant({ name: 'Gone', slug: 'gone-key' });
    const key = await rt.createKey(t.id, 'admin');
    const keys = (await rt.app.inject({ method: 'GET', url: '/api/keys', headers: bearer(key) })).json() as { data: { id: string; role: string }[] };
    const mine = keys.data.find((k) => k.role === 'admin')!;
    expect((await rt.app.inject({ method: 'DELETE', url: `/api/keys/${mine.id}`, headers: rt.operator(t.id) })).statusCode).toBe(204);
    const res = await rt.app.inject({ method: 'GET', url: '/api/session', headers: bearer(key) });
    expect(res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });
});

describe('GET /api/providers/available', () => {
  it("lists the platform's configured providers and the tenant's own, and nothing else", async () => {
    const a = await rt.createTenant({ name: 'Prov A', slug: 'prov-a' });
    const b = await rt.createTenant({ name: 'Prov B', slug: 'prov-b' });
    const keyA = await rt.createKey(a.id, 'owner');
    const keyB = await rt.createKey(b.id, 'viewer');
    const put = await rt.app.inject({ method: 'PUT', url: '/api/providers/openai', headers: bearer(keyA), payload: { apiKey: 'sk-own' } });
    expect(put.statusCode, put.body).toBe(200);

    const resA = await rt.app.inject({ method: 'GET', url: '/api/providers/available', headers: bearer(keyA) });
    expect(resA.json()).toEqual({
      data: [
        { name: 'ollama', source: 'platform' },
        { name: 'anthropic', source: 'platform' },
        { name: 'openai', source: 'tenant' },
      ],
    });
    // Tenant B (a viewer may read it) does not see A's own provider.
    const resB = await rt.app.inject({ method: 'GET', url: '/api/providers/available', headers: bearer(keyB) });
    expect(resB.statusCode).toBe(200);
    expect(resB.json()).toEqual({ data: [{ name: 'ollama', source: 'platform' }, { name: 'anthropic', source: 'platform' }] });
  });
});
