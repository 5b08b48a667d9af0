import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

describe('smoke', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(() => rt.close());

  it('creates a tenant, a key and an agent, and releases the tenant store', async () => {
    const t = await rt.createTenant({ name: 'Acme' });
    const key = await rt.createKey(t.id);
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/agents',
      headers: bearer(key),
      payload: { name: 'a', systemPrompt: 's', provider: 'ollama', model: 'm' },
    });
    expect(res.statusCode).toBe(201);
    const list = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) });
    expect(list.json().data).toHaveLength(1);
    expect(rt.pool.stats().size).toBe(1);
    // Evicting closes the store at once only when every request released its lease.
    await rt.pool.evict(t.id);
    expect(rt.pool.stats().size).toBe(0);
  });
});
