import { networkInterfaces } from 'node:os';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressGuard, guardedConnector } from '../src/adapters/providers/address-guard.js';
import { transportError } from '../src/adapters/providers/http-client.js';
import { closedPort } from '../src/test-support/fake-llm-helpers.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, createAgent, startTestServer, type TestServer } from '../src/test-support/harness.js';

/**
 * Issue 12, item 9: with AGENTIK_TENANT_PROVIDER_URLS=allow a tenant's provider URL may not reach
 * this machine, private or link-local networks or the runtime itself, unless the operator lists
 * the host in AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS; checked when saved and on every connection
 * (to the address that was checked); upstream failures come back as short fixed messages.
 */

let llm: FakeLlm;
let strict: TestServer;
let listed: TestServer;

beforeAll(async () => {
  llm = await startFakeLlm();
  const env = { AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OLLAMA_URL: llm.url, AGENTIK_OPENAI_BASE_URL: llm.openAiUrl, AGENTIK_TENANT_PROVIDER_URLS: 'allow' };
  strict = await startTestServer(env);
  listed = await startTestServer({ ...env, AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS: '127.0.0.1' });
});

afterAll(async () => {
  await strict?.close();
  await listed?.close();
  await llm?.close();
});

async function tenant(rt: TestServer, name: string) {
  const t = await rt.createTenant({ name, plan: 'enterprise' });
  const key = await rt.createKey(t.id);
  return { id: t.id, key, agentId: await createAgent(rt, key, { provider: 'openai-compatible', model: 'm' }) };
}

const put = (rt: TestServer, key: string, baseUrl: string) =>
  rt.app.inject({ method: 'PUT', url: '/api/providers/openai-compatible', headers: bearer(key), payload: { baseUrl } });

const ask = (rt: TestServer, t: { key: string; agentId: string }) =>
  rt.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key), payload: { content: 'hi' } });

function ownInterfaceAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  return all.find((i) => !i.internal && i.family === 'IPv4')?.address;
}

describe('tenant provider URLs', () => {
  it('refuses loopback, private, link-local, unspecified and own addresses when saved, all with one message', async () => {
    const t = await tenant(strict, 'Probe');
    const port = new URL(strict.url).port;
    const own = ownInterfaceAddress();
    const urls = [
      `${strict.url}/v1`, // the runtime itself
      `http://localhost:${port}/v1`,
      'http://127.0.0.1:5432/v1', // Postgres
      'http://127.0.0.1:6379/v1', // Redis
      `http://127.0.0.1:${await closedPort()}/v1`,
      'http://[::1]:11434/v1',
      'http://[::ffff:127.0.0.1]:6379/v1',
      'http://0.0.0.0:3000/v1',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/v1',
      'http://172.16.0.1/v1',
      'http://192.168.1.1/v1',
      'http://100.64.0.1/v1',
      'http://[fd00::1]/v1',
      'http://[fe80::1]/v1',
      ...(own ? [`http://${own}:${port}/v1`] : []),
    ];
    const answers = new Set<string>();
    for (const url of urls) {
      const res = await put(strict, t.key, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('VALIDATION_FAILED');
      answers.add(res.body);
    }
    // Open and closed ports, Postgres or Redis, look the same: nothing to probe.
    expect(answers.size).toBe(1);
    const unknown = await put(strict, t.key, 'http://no-such-host.invalid/v1');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toMatch(/does not resolve/);
    // A public address is fine (saving does not connect).
    expect((await put(strict, t.key, 'http://203.0.113.10/v1')).statusCode).toBe(200);
  });

  it('refuses at call time a stored URL whose host resolves to a forbidden address, without connecting', async () => {
    const t = await tenant(strict, 'Stored');
    // As if it had been saved while its name resolved elsewhere (or by an older version).
    const lease = await strict.pool.acquire(t.id);
    try {
      // The fake under another name than the platform's URL: a URL of the tenant's own.
      const baseUrl = `http://localhost:${new URL(llm.url).port}/v1`;
      await lease.store.providerCredentials.put({ provider: 'openai-compatible', baseUrl, apiKeyCiphertext: null, updatedAt: Date.now() });
    } finally {
      lease.release();
    }
    const before = llm.chatRequestCount;
    const res = await ask(strict, t);
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toEqual({ code: 'PROVIDER_UNAVAILABLE', message: 'the openai-compatible provider is unavailable (address not allowed)' });
    expect(llm.chatRequestCount).toBe(before);
  });

  it('lets the operator allow a listed host, and then answers upstream failures with a fixed message, never the body', async () => {
    const t = await tenant(listed, 'Listed');
    expect((await put(listed, t.key, llm.openAiUrl)).statusCode).toBe(200);
    expect((await ask(listed, t)).statusCode).toBe(200);

    const secret = `internal-${'x'.repeat(60_000)}`;
    llm.enqueue({ error: { status: 400, body: { error: { message: secret, type: secret, code: secret } } } });
    const rejected = await ask(listed, t);
    expect(rejected.statusCode).toBe(502);
    expect(rejected.json().error).toEqual({ code: 'PROVIDER_ERROR', message: 'the openai-compatible provider rejected the request (bad request, HTTP 400)' });

    llm.enqueue({ error: { status: 503, body: secret } }, { error: { status: 503, body: secret } }, { error: { status: 503, body: secret } });
    const down = await ask(listed, t);
    expect(down.statusCode).toBe(502);
    expect(down.body).not.toContain('internal-');
    expect(down.json().error.message.length).toBeLessThan(100);
  });
});

describe('the address guard', () => {
  it('connects to the address it checked, and checks again on each new connection (DNS may change)', async () => {
    let answer = ['127.0.0.1'];
    const guard = createAddressGuard({ allowHosts: ['127.0.0.1'], lookup: async () => answer });
    const agent = new Agent({ connect: guardedConnector(guard, { timeout: 2_000 }), pipelining: 0 });
    try {
      // `svc.test` exists only in the guard's lookup: reaching the fake proves the checked address was used.
      const url = `http://svc.test:${new URL(llm.url).port}/api/tags`;
      const ok = await request(url, { dispatcher: agent, reset: true });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
      answer = ['10.9.8.7'];
      const error = await request(url, { dispatcher: agent, reset: true }).catch((e: unknown) => e);
      expect(transportError('openai-compatible', error, undefined, 'connect')).toMatchObject({ code: 'address_not_allowed', retryable: false });
    } finally {
      await agent.close();
    }
  });

  it('refuses a name with any forbidden address, and lets listed names and ranges through', async () => {
    const lookup = async (host: string) => (host === 'mixed.test' ? ['203.0.113.5', '192.168.0.10'] : ['10.0.0.7']);
    const guard = createAddressGuard({ allowHosts: ['vllm.lan', '10.0.0.0/24'], lookup });
    await expect(guard.resolve('mixed.test', 80)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' });
    await expect(guard.resolve('vllm.lan', 80)).resolves.toBe('10.0.0.7');
    await expect(guard.resolve('other.test', 80)).resolves.toBe('10.0.0.7'); // 10.0.0.7 is in the listed range
    await expect(guard.resolve('10.0.1.7', 80)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' });
    await expect(guard.resolve('[::ffff:a00:107]', 80)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' }); // 10.0.1.7, mapped
    await expect(guard.resolve('[64:ff9b::7f00:1]', 80)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' }); // 127.0.0.1, NAT64
    await expect(guard.resolve('203.0.113.5', 80)).resolves.toBe('203.0.113.5');
  });

  it('limits an entry with a port to that port', async () => {
    const guard = createAddressGuard({ allowHosts: ['127.0.0.1:8000', 'gpu.lan:8443', '[fd00::5]:9000'], lookup: async () => ['192.168.7.7'] });
    await expect(guard.resolve('127.0.0.1', 8000)).resolves.toBe('127.0.0.1');
    await expect(guard.resolve('127.0.0.1', 5432)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' });
    await expect(guard.resolve('gpu.lan', 8443)).resolves.toBe('192.168.7.7');
    await expect(guard.resolve('gpu.lan', 22)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' });
    await expect(guard.resolve('[fd00::5]', 9000)).resolves.toBe('fd00::5');
    await expect(guard.resolve('[fd00::5]', 9001)).rejects.toMatchObject({ code: 'AGENTIK_ADDRESS_NOT_ALLOWED' });
  });
});
