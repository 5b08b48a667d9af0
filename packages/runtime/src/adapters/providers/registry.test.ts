import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_HTTP, collect } from '../../test-support/fake-llm-helpers.js';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { Agent } from 'undici';
import { createProviders, DEFAULT_BASE_URLS } from './registry.js';
import type { ChatRequest } from '../../providers/types.js';

const REQ: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
let fake: FakeLlm;
let tenantFake: FakeLlm;

beforeAll(async () => {
  fake = await startFakeLlm();
  tenantFake = await startFakeLlm({ instant: true });
});
afterAll(async () => {
  await fake.close();
  await tenantFake.close();
});
beforeEach(() => {
  fake.reset();
  tenantFake.reset();
});

describe('createProviders', () => {
  it('builds one instance per configured provider, and none for the others', async () => {
    const providers = createProviders({ ollama: { baseUrl: fake.url }, anthropic: { baseUrl: fake.url, apiKey: 'platform-anthropic' }, http: FAST_HTTP });
    expect(providers.names().sort()).toEqual(['anthropic', 'ollama']);
    expect(providers.get('openai')).toBeUndefined();
    expect(providers.get('ollama')).toBe(providers.get('ollama'));
    expect((await providers.get('anthropic')!.complete(REQ)).text).toBe('Hello! Nice to meet you.');
    expect(fake.lastRequest?.headers['x-api-key']).toBe('platform-anthropic');
    await providers.close();
  });

  it('serves openai and openai-compatible from one adapter, each with its max-tokens field', async () => {
    const providers = createProviders({
      openai: { baseUrl: fake.openAiUrl, apiKey: 'sk-platform-000000' },
      openaiCompatible: { baseUrl: fake.openAiUrl },
      http: FAST_HTTP,
    });
    await providers.get('openai')!.complete({ ...REQ, maxTokens: 5 });
    expect(fake.lastRequest?.body).toMatchObject({ max_completion_tokens: 5 });
    await providers.get('openai-compatible')!.complete({ ...REQ, maxTokens: 5 });
    expect(fake.lastRequest?.body).toMatchObject({ max_tokens: 5 });
    expect(providers.get('openai-compatible')!.name).toBe('openai-compatible');
    await providers.close();
  });

  it('falls back to the documented default base URLs and rejects credentials in URLs', () => {
    const providers = createProviders({ ollama: {}, openai: {}, anthropic: {} });
    expect(providers.names()).toHaveLength(3);
    expect(DEFAULT_BASE_URLS.openai).toBe('https://api.openai.com/v1');
    expect(() => createProviders({ openaiCompatible: {} })).toThrow(/baseUrl/);
    expect(() => createProviders({ ollama: { baseUrl: 'http://user:pass@127.0.0.1:1' } })).toThrow(/credentials/);
    return providers.close();
  });
});

describe('tenant credentials', () => {
  it("uses the tenant's key and URL; the platform key never goes to a tenant's URL", async () => {
    const providers = createProviders({ openai: { baseUrl: fake.openAiUrl, apiKey: 'sk-platform-000000' }, http: FAST_HTTP });
    const own = providers.withCredentials('openai', { baseUrl: tenantFake.openAiUrl, apiKey: 'sk-tenant-111111' });
    await own.complete(REQ);
    expect(tenantFake.lastRequest?.headers.authorization).toBe('Bearer sk-tenant-111111');

    const urlOnly = providers.withCredentials('openai', { baseUrl: tenantFake.openAiUrl });
    await urlOnly.complete(REQ);
    expect(tenantFake.lastRequest?.headers.authorization).toBeUndefined();

    const keyOnly = providers.withCredentials('openai', { apiKey: 'sk-tenant-222222' });
    await keyOnly.complete(REQ);
    expect(fake.lastRequest?.headers.authorization).toBe('Bearer sk-tenant-222222');
    expect(fake.chatRequestCount).toBe(1);
    await providers.close();
  });

  it('tenant instances share the pooled connections of their origin', async () => {
    const providers = createProviders({ anthropic: { baseUrl: fake.url, apiKey: 'platform' }, http: FAST_HTTP });
    const platform = providers.get('anthropic')!;
    const tenantA = providers.withCredentials('anthropic', { apiKey: 'tenant-a' });
    const tenantB = providers.withCredentials('anthropic', { apiKey: 'tenant-b' });
    for (const p of [platform, tenantA, tenantB, platform, tenantA, tenantB]) await collect(p.stream(REQ));
    expect(fake.requests.map((r) => r.headers['x-api-key'])).toEqual(['platform', 'tenant-a', 'tenant-b', 'platform', 'tenant-a', 'tenant-b']);
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
    await providers.close();
  });

  it('an injected dispatcher is used and left open for its owner', async () => {
    const agent = new Agent();
    const providers = createProviders({ ollama: { baseUrl: tenantFake.url }, dispatcher: agent });
    const { result } = await collect(providers.withCredentials('ollama', {}).stream(REQ));
    expect(result?.usage).toEqual({ inputTokens: 24, outputTokens: 8 });
    await providers.close();
    expect(agent.closed).toBe(false);
    await agent.close();
  });
});
