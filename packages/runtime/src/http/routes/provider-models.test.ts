import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';

let llm: FakeLlm;
let rt: TestRuntime;
let down: TestRuntime;
const PLATFORM_KEY = 'sk-platform-0123456789abcdefghij';

beforeAll(async () => {
  llm = await startFakeLlm({ instant: true });
  rt = await startTestRuntime({
    AGENTIK_OLLAMA_URL: llm.url,
    AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
    AGENTIK_OPENAI_API_KEY: PLATFORM_KEY,
    AGENTIK_PROVIDER_RETRIES: '0',
  });
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

  it.each(['openai', 'openai-compatible'])("lists the %s server's models (its /v1/models, with the platform key)", async (name) => {
    const key = await viewerOf(rt, `models-${name}`);
    const res = await rt.app.inject({ method: 'GET', url: `/api/providers/${name}/models`, headers: bearer(key) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ data: [{ name: 'gpt-4o-mini' }, { name: 'gpt-4o' }, { name: 'text-embedding-3-small' }] });
    expect(llm.lastRequest).toMatchObject({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${PLATFORM_KEY}` } });
  });

  it('says PROVIDER_UNAVAILABLE when Ollama cannot be reached or a provider is not configured, VALIDATION_FAILED for Anthropic', async () => {
    const key = await viewerOf(down, 'models-b');
    const res = await down.app.inject({ method: 'GET', url: '/api/providers/ollama/models', headers: bearer(key) });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    const unconfigured = await down.app.inject({ method: 'GET', url: '/api/providers/openai/models', headers: bearer(key) });
    expect(unconfigured.statusCode).toBe(502);
    expect(unconfigured.json()).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE', message: 'the openai provider is not configured on this server' } });
    const anthropic = await down.app.inject({ method: 'GET', url: '/api/providers/anthropic/models', headers: bearer(key) });
    expect(anthropic.statusCode).toBe(400);
    expect(anthropic.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('anthropic is not supported') } });
  });
});
