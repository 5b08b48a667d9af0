import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { buildApp } from '../src/http/app.js';
import { bearer, startTestRuntime, testConfig, type TestRuntime } from '../src/test-support/harness.js';

/**
 * A tenant's own provider keys: encrypted at rest, never returned or logged, sent upstream
 * instead of the platform's; a base URL of the tenant's own only with the operator's consent.
 */

const TENANT_KEY = 'sk-tenant-SECRET-4f9a1c7e2b';
const TENANT_ANTHROPIC_KEY = 'sk-ant-tenant-SECRET-77d1';
const PLATFORM_KEY = 'sk-platform-key-0001';

let llm: FakeLlm;
let own: FakeLlm;
let rt: TestRuntime;
let allow: TestRuntime;

interface Tenant {
  id: string;
  key: string;
}

async function makeTenant(runtime: TestRuntime, name: string): Promise<Tenant> {
  const t = await runtime.createTenant({ name, plan: 'enterprise' });
  const key = await runtime.createKey(t.id);
  for (const [agent, provider, model] of [
    ['gpt', 'openai', 'gpt-4o-mini'],
    ['claude', 'anthropic', 'claude-haiku-4-5'],
  ]) {
    const res = await runtime.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: agent, systemPrompt: '', provider, model } });
    expect(res.statusCode, res.body).toBe(201);
  }
  return { id: t.id, key };
}

const put = (runtime: TestRuntime, key: string, name: string, payload: Record<string, unknown>) =>
  runtime.app.inject({ method: 'PUT', url: `/api/providers/${name}`, headers: bearer(key), payload });
const list = (runtime: TestRuntime, key: string) => runtime.app.inject({ method: 'GET', url: '/api/providers', headers: bearer(key) });

/** Sends one message to `agent` (by name, through /v1) and returns the headers the upstream saw. */
async function upstreamHeaders(runtime: Pick<TestRuntime, 'app'>, fake: FakeLlm, t: Tenant, agent: string) {
  const before = fake.requests.length;
  const res = await runtime.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: bearer(t.key), payload: { model: agent, messages: [{ role: 'user', content: 'hi' }] } });
  expect(res.statusCode, res.body).toBe(200);
  expect(fake.requests.length).toBe(before + 1);
  return fake.lastRequest!.headers;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  own = await startFakeLlm({ defaultReply: { text: 'from the tenant-chosen server' } });
  const env = {
    AGENTIK_LOG_LEVEL: 'trace',
    AGENTIK_OLLAMA_URL: llm.url,
    AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
    AGENTIK_OPENAI_API_KEY: PLATFORM_KEY,
    AGENTIK_ANTHROPIC_BASE_URL: llm.url,
    AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-platform',
  };
  rt = await startTestRuntime(env);
  // The tenant's own fake runs on loopback, which tenant URLs may reach only when the operator lists it.
  allow = await startTestRuntime({ ...env, AGENTIK_LOG_LEVEL: 'warn', AGENTIK_TENANT_PROVIDER_URLS: 'allow', AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS: '127.0.0.1' });
});

afterAll(async () => {
  await rt.close();
  await allow.close();
  await llm.close();
  await own.close();
});

describe('tenant provider credentials', () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    a = await makeTenant(rt, 'Alpha');
    b = await makeTenant(rt, 'Beta');
  });

  it('uses the platform key until the tenant sets its own', async () => {
    expect((await upstreamHeaders(rt, llm, a, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    expect((await upstreamHeaders(rt, llm, a, 'claude'))['x-api-key']).toBe('sk-ant-platform');
  });

  it('stores a key and shows only that one is set', async () => {
    const res = await put(rt, a.key, 'openai', { apiKey: TENANT_KEY });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ provider: 'openai', baseUrl: null, hasApiKey: true, updatedAt: expect.any(String) });
    expect((await put(rt, a.key, 'anthropic', { apiKey: TENANT_ANTHROPIC_KEY })).statusCode).toBe(200);
    const listed = await list(rt, a.key);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain('SECRET');
    expect((listed.json() as { data: { provider: string; hasApiKey: boolean }[] }).data.map((p) => [p.provider, p.hasApiKey]).sort()).toEqual([
      ['anthropic', true],
      ['openai', true],
    ]);
    expect((await list(rt, b.key)).json()).toEqual({ data: [] });
  });

  it('sends the tenant key upstream, and only for that tenant', async () => {
    expect((await upstreamHeaders(rt, llm, a, 'gpt')).authorization).toBe(`Bearer ${TENANT_KEY}`);
    expect((await upstreamHeaders(rt, llm, a, 'claude'))['x-api-key']).toBe(TENANT_ANTHROPIC_KEY);
    expect((await upstreamHeaders(rt, llm, b, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    expect((await upstreamHeaders(rt, llm, b, 'claude'))['x-api-key']).toBe('sk-ant-platform');
  });

  it('keeps the key encrypted in the tenant database file', () => {
    const file = path.join(rt.dataDir, 'tenants', `${a.id}.db`);
    expect(existsSync(file)).toBe(true);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      if (!existsSync(f)) continue;
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from('SECRET')), f).toBe(false);
    }
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT provider, api_key FROM provider_credentials ORDER BY provider').all() as { provider: string; api_key: string }[];
      expect(rows.map((r) => r.provider)).toEqual(['anthropic', 'openai']);
      for (const r of rows) {
        expect(r.api_key).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
        expect(r.api_key).not.toContain('SECRET');
      }
    } finally {
      db.close();
    }
    // The encryption key is not in the tenant's file either.
    const key = readFileSync(path.join(rt.dataDir, 'encryption.key'), 'utf8').trim();
    expect(readFileSync(file).includes(Buffer.from(key))).toBe(false);
  });

  it('never writes the key to a log line or the audit log', async () => {
    const audit = await rt.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: bearer(a.key) });
    const entries = (audit.json() as { data: { action: string; details: Record<string, unknown> }[] }).data.filter((e) => e.action === 'provider.updated');
    expect(entries).toHaveLength(2);
    expect(entries[0]!.details).toEqual({ baseUrl: null, hasApiKey: true });
    expect(audit.body).not.toContain('SECRET');
    expect(rt.logs.length).toBeGreaterThan(10);
    for (const line of rt.logs) {
      expect(line).not.toContain('SECRET');
      expect(line).not.toContain(PLATFORM_KEY);
    }
  });

  it('clears the key with null, and DELETE goes back to the platform key', async () => {
    const cleared = await put(rt, a.key, 'anthropic', { apiKey: null });
    expect(cleared.json()).toMatchObject({ provider: 'anthropic', hasApiKey: false });
    expect((await upstreamHeaders(rt, llm, a, 'claude'))['x-api-key']).toBe('sk-ant-platform');
    // A PUT without apiKey keeps the stored one.
    expect((await put(rt, a.key, 'openai', {})).json()).toMatchObject({ hasApiKey: true });
    expect((await upstreamHeaders(rt, llm, a, 'gpt')).authorization).toBe(`Bearer ${TENANT_KEY}`);
    const del = await rt.app.inject({ method: 'DELETE', url: '/api/providers/openai', headers: bearer(a.key) });
    expect(del.statusCode).toBe(204);
    expect((await upstreamHeaders(rt, llm, a, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    const again = await rt.app.inject({ method: 'DELETE', url: '/api/providers/openai', headers: bearer(a.key) });
    expect(again.statusCode).toBe(404);
    // B deleting A's setting is the same as deleting nothing.
    expect((await rt.app.inject({ method: 'DELETE', url: '/api/providers/anthropic', headers: bearer(b.key) })).statusCode).toBe(404);
    // The deletion is audited once, in A only.
    const audited = async (t: Tenant) =>
      ((await rt.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: bearer(t.key) })).json() as { data: Array<{ action: string; target: string }> }).data.filter(
        (e) => e.action === 'provider.deleted',
      );
    expect((await audited(a)).map((e) => e.target)).toEqual(['provider:openai']);
    expect(await audited(b)).toEqual([]);
  });

  it('refuses a base URL of the tenant own unless the operator allows it', async () => {
    const res = await put(rt, a.key, 'openai', { baseUrl: own.openAiUrl, apiKey: TENANT_KEY });
    expect(res.statusCode).toBe(403);
    expect((res.json() as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect((await list(rt, a.key)).json()).toMatchObject({ data: [{ provider: 'anthropic' }] });
    expect(own.chatRequestCount).toBe(0);
  });

  it('lists the built-in tools with their schemas', async () => {
    const res = await rt.app.inject({ method: 'GET', url: '/api/tools', headers: bearer(b.key) });
    expect(res.statusCode).toBe(200);
    const tools = (res.json() as { data: { name: string; parameters: { type: string } }[] }).data;
    expect(tools.map((x) => x.name).sort()).toEqual(['calculator', 'current_time']);
    expect(tools.every((x) => x.parameters.type === 'object')).toBe(true);
  });

  it('refuses unknown providers and bad bodies', async () => {
    expect((await put(rt, a.key, 'azure', { apiKey: 'x' })).statusCode).toBe(400);
    expect((await put(rt, a.key, 'openai', { apiKey: '' })).statusCode).toBe(400);
    expect((await put(rt, a.key, 'openai', { baseUrl: 'file:///etc/passwd' })).statusCode).toBe(400);
    expect((await put(rt, a.key, 'openai', { apiKey: 'x', extra: 1 })).statusCode).toBe(400);
  });

  it('is for admins and owners only', async () => {
    for (const role of ['viewer', 'member'] as const) {
      const key = await rt.createKey(a.id, role);
      const denied = await put(rt, key, 'openai', { apiKey: 'sk-member' });
      expect(denied.statusCode).toBe(403);
      expect((denied.json() as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      expect((await list(rt, key)).statusCode).toBe(403);
      expect((await rt.app.inject({ method: 'DELETE', url: '/api/providers/anthropic', headers: bearer(key) })).statusCode).toBe(403);
    }
    const admin = await rt.createKey(a.id, 'admin');
    expect((await put(rt, admin, 'openai', { apiKey: TENANT_KEY })).statusCode).toBe(200);
    expect((await list(rt, admin)).statusCode).toBe(200);
    const viaOperator = await rt.app.inject({ method: 'GET', url: '/api/providers', headers: rt.operator(a.id) });
    expect(viaOperator.statusCode).toBe(200);
  });
});

describe('with AGENTIK_TENANT_PROVIDER_URLS=allow', () => {
  it("sends the tenant's calls to its own URL, with its own key and never the platform's", async () => {
    const t = await makeTenant(allow, 'Gamma');
    const other = await makeTenant(allow, 'Delta');
    const withoutKey = await put(allow, t.key, 'openai', { baseUrl: own.openAiUrl });
    expect(withoutKey.json()).toMatchObject({ provider: 'openai', baseUrl: own.openAiUrl, hasApiKey: false });
    const headers = await upstreamHeaders(allow, own, t, 'gpt');
    expect(headers.authorization).toBeUndefined();
    expect((await put(allow, t.key, 'openai', { apiKey: TENANT_KEY })).json()).toMatchObject({ baseUrl: own.openAiUrl, hasApiKey: true });
    expect((await upstreamHeaders(allow, own, t, 'gpt')).authorization).toBe(`Bearer ${TENANT_KEY}`);
    // The other tenant still talks to the platform's server with the platform's key.
    expect((await upstreamHeaders(allow, llm, other, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    // Clearing the URL goes back to the platform's.
    expect((await put(allow, t.key, 'openai', { baseUrl: null, apiKey: null })).json()).toMatchObject({ baseUrl: null, hasApiKey: false });
    expect((await upstreamHeaders(allow, llm, t, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
  });

  it('ignores a stored URL of the tenant own, and its key, once the server denies tenant URLs', async () => {
    const t = await makeTenant(allow, 'Epsilon');
    expect((await put(allow, t.key, 'openai', { baseUrl: own.openAiUrl, apiKey: TENANT_KEY })).statusCode).toBe(200);
    expect((await upstreamHeaders(allow, own, t, 'gpt')).authorization).toBe(`Bearer ${TENANT_KEY}`);
    // The same data, served by a runtime whose operator now denies tenant URLs.
    const denied = await buildApp({
      config: testConfig(allow.dataDir, { AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OPENAI_BASE_URL: llm.openAiUrl, AGENTIK_OPENAI_API_KEY: PLATFORM_KEY }),
      logStream: { write: () => true },
    });
    try {
      const ownBefore = own.requests.length;
      expect((await upstreamHeaders(denied, llm, t, 'gpt')).authorization).toBe(`Bearer ${PLATFORM_KEY}`);
      expect(own.requests.length).toBe(ownBefore);
    } finally {
      await denied.app.close();
    }
  });
});
