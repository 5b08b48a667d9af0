import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';

let llm: FakeLlm;
let rt: TestRuntime;
let down: TestRuntime;

beforeAll(async () => {
  llm = await startFakeLlm({ instant: true });
  rt = await startTestRuntime({ AGENTIK_OLLAMA_URL: llm.url, AGENTIK_PROVIDER_RETRIES: '0' });
  // An Ollama URL where nothing listens.
  down = await startTestRuntime({ AGENTIK_OLLAMA_URL: 'http://127.0.0.1:9', AGENTIK_PROVIDER_RETRIES: '0' });
});

afterAll(async () => {
  await rt?.close();
  await down?.close();
  await llm?.close();
});

async function viewerOf(runtime: TestRuntime, slug: string) {
  const t = await runtime.createTenant({ name: slug, slug });
  return runtime.createKey(t.id, 'viewer');
}

describe('GET /api/providers/:name/models', () => {
  it("lists the server's Ollama models (its /api/tags)", async () => {
    const key = await viewerOf(rt, 'models-a');
    const res = await rt.app.inject({ method: 'GET', url: '/api/providers/ollama/models', headers: bearer(key) });
    expect(res.statusCode, res.body).toBe(200);
    const names = (res.json() as { data: { name: string }[] }).data.map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(llm.lastRequest?.path).toBe('/api/tags');
  });

  it('says PROVIDER_UNAVAILABLE when Ollama cannot be reached, VALIDATION_FAILED for other providers', async () => {
    const key = await viewerOf(down, 'models-b');
    const res = await down.app.inject({ method: 'GET', url: '/api/providers/ollama/models', headers: bearer(key) });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    const other = await down.app.inject({ method: 'GET', url: '/api/providers/openai/models', headers: bearer(key) });
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
