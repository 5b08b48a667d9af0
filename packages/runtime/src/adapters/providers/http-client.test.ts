import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_HTTP, closedPort, collect, collectError, rejection } from '../../test-support/fake-llm-helpers.js';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { AnthropicProvider } from './anthropic.js';
import { HttpClient, MAX_RESPONSE_BODY, retryDelay, retryPolicy, transportError } from './http-client.js';
import { OllamaProvider } from './ollama.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { ChatRequest, LlmProvider } from '../../providers/types.js';

const REQ: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'secret prompt text' }] };
let fake: FakeLlm;

beforeAll(async () => {
  fake = await startFakeLlm();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const all = (baseUrl: string, http = FAST_HTTP): LlmProvider[] => [
  new OllamaProvider({ baseUrl, http }),
  new OpenAiCompatibleProvider({ name: 'openai', baseUrl: `${baseUrl}/v1`, apiKey: 'sk-secret-key-000000', http }),
  new AnthropicProvider({ baseUrl, apiKey: 'sk-ant-secret-000000', http }),
];

describe('connection failures', () => {
  it('connection refused is ProviderError kind unavailable after the retries, for every provider and both calls', async () => {
    const port = await closedPort();
    for (const provider of all(`http://127.0.0.1:${port}`)) {
      const error = await rejection(provider.complete(REQ));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: provider.name, code: 'connection_refused', kind: 'unavailable', retryable: true, attempts: 3 });
      expect(error.message).toBe(`${provider.name}: connection refused (ECONNREFUSED)`);
      const streamed = await collectError(provider.stream(REQ));
      expect(streamed.error).toMatchObject({ code: 'connection_refused', kind: 'unavailable', partial: undefined });
      expect(JSON.stringify(streamed.error)).not.toMatch(/secret/);
    }
  });

  it('a slow first byte beyond the headers timeout is a timeout error (and is retried)', async () => {
    // undici's timers have a resolution of about half a second: keep the gap wide.
    const [ollama] = all(fake.url, { ...FAST_HTTP, headersTimeoutMs: 200, maxRetries: 1 });
    fake.enqueue({ firstByteDelayMs: 5000 }, { firstByteDelayMs: 5000 });
    const started = Date.now();
    const error = await rejection(ollama!.complete(REQ));
    expect(error).toMatchObject({ code: 'timeout', kind: 'unavailable', attempts: 2 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(fake.chatRequestCount).toBe(2);
  });

  it('a first byte within the timeout is fine', async () => {
    const [, openai] = all(fake.url, { ...FAST_HTTP, headersTimeoutMs: 1000 });
    fake.enqueue({ firstByteDelayMs: 100 });
    expect((await collect(openai!.stream(REQ))).result?.text).toBe('Hello! Nice to meet you.');
  });

  it('a stream that stalls longer than the body timeout fails with what it had', async () => {
    // maxRetries 0: the stall comes before any text, so it would otherwise be retried (and succeed).
    const [, , anthropic] = all(fake.url, { ...FAST_HTTP, bodyTimeoutMs: 200, maxRetries: 0 });
    fake.enqueue({ tokenDelayMs: 5000 });
    const { error } = await collectError(anthropic!.stream(REQ));
    expect(error).toMatchObject({ code: 'body_timeout', kind: 'unavailable' });
    expect(error.partial).toBeDefined();
  });

  it('a stream cut before any text reached the caller is retried transparently', async () => {
    const [, openai] = all(fake.url);
    fake.enqueue({ cutAfterTokens: 0 }, { text: 'fine' });
    expect((await collect(openai!.stream(REQ))).result?.text).toBe('fine');
    expect(fake.chatRequestCount).toBe(2);
  });
});

describe('abort', () => {
  it('aborting a waiting request closes the upstream connection', async () => {
    for (const provider of all(fake.url)) {
      fake.enqueue({ hang: true });
      const controller = new AbortController();
      const closed = fake.nextClientAbort();
      const pending = rejection(provider.complete({ ...REQ, signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      const error = await pending;
      expect(error).toMatchObject({ code: 'aborted', kind: 'aborted', retryable: false });
      expect((await closed).clientClosedEarly).toBe(true);
    }
  });

  it('aborting mid-stream closes the connection and keeps the partial text', async () => {
    for (const provider of all(fake.url)) {
      fake.reset();
      fake.enqueue({ tokenDelayMs: 30 });
      const controller = new AbortController();
      const closed = fake.nextClientAbort();
      const texts: string[] = [];
      let error: ProviderError | undefined;
      try {
        for await (const event of provider.stream({ ...REQ, signal: controller.signal })) {
          if (event.type === 'text') texts.push(...event.texts);
          if (texts.length === 2) controller.abort();
        }
      } catch (e) {
        error = e as ProviderError;
      }
      expect(error).toMatchObject({ kind: 'aborted', code: 'aborted' });
      expect(error?.partial?.text).toBe(texts.join(''));
      await closed;
      expect(fake.chatRequestCount).toBe(1);
    }
  });

  it('breaking out of the loop closes the upstream connection', async () => {
    const [ollama] = all(fake.url);
    fake.enqueue({ tokenDelayMs: 30 });
    const closed = fake.nextClientAbort();
    for await (const event of ollama!.stream(REQ)) if (event.type === 'text') break;
    expect((await closed).clientClosedEarly).toBe(true);
  });

  it('an already aborted signal sends nothing; an abort during the retry wait stops at once', async () => {
    const [, openai] = all(fake.url);
    const error = await rejection(openai!.complete({ ...REQ, signal: AbortSignal.abort() }));
    expect(error.kind).toBe('aborted');
    expect(fake.chatRequestCount).toBe(0);

    fake.enqueue({ error: { status: 429, headers: { 'retry-after': '30' } } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect((await rejection(openai!.complete({ ...REQ, signal: controller.signal }))).kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('retries', () => {
  it('honours retry-after-ms', async () => {
    const [, openai] = all(fake.url);
    fake.enqueue({ error: { status: 429, headers: { 'retry-after-ms': '150' } } }, {});
    const started = Date.now();
    await openai!.complete(REQ);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(fake.chatRequestCount).toBe(2);
  });

  it('backs off exponentially with jitter, capped, and prefers the upstream wait', () => {
    const policy = retryPolicy({ retryBaseDelayMs: 100, retryMaxDelayMs: 300 });
    const err = new ProviderError({ provider: 'openai', message: 'x', status: 500 });
    for (let i = 0; i < 50; i++) {
      const d0 = retryDelay(err, 0, policy);
      expect(d0).toBeGreaterThanOrEqual(75);
      expect(d0).toBeLessThanOrEqual(100);
      expect(retryDelay(err, 1, policy)).toBeGreaterThanOrEqual(150);
      expect(retryDelay(err, 5, policy)).toBeLessThanOrEqual(300);
    }
    expect(retryDelay(err.with({ retryAfterMs: 7 }), 3, policy)).toBe(7);
    expect(retryPolicy()).toEqual({ maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000 });
    expect(retryPolicy({ maxRetries: -1 }).maxRetries).toBe(0);
  });

  it('maxRetries 0 means exactly one attempt', async () => {
    const [ollama] = all(fake.url, { ...FAST_HTTP, maxRetries: 0 });
    fake.enqueue({ error: { status: 500 } });
    expect(await rejection(ollama!.complete(REQ))).toMatchObject({ attempts: 1, kind: 'unavailable' });
    expect(fake.chatRequestCount).toBe(1);
  });
});

describe('pooling', () => {
  it('reuses pooled connections for successive calls, streamed or not', async () => {
    const [ollama, openai, anthropic] = all(fake.url);
    for (const provider of [ollama!, openai!, anthropic!]) {
      fake.reset();
      for (let i = 0; i < 3; i++) {
        await provider.complete(REQ);
        await collect(provider.stream(REQ));
      }
      // undici may open a second socket while the first one is being released; never one per request.
      const ports = new Set(fake.requests.map((r) => r.remotePort));
      expect(fake.requests).toHaveLength(6);
      expect(ports.size).toBeLessThanOrEqual(2);
    }
  });

  it('a client that built its own pool closes it', async () => {
    const client = new HttpClient('ollama', FAST_HTTP);
    await client.close();
    const error = await rejection(client.send({ url: `${fake.url}/api/tags`, method: 'GET', headers: {} }, () => new ProviderError({ provider: 'ollama', message: 'x' })));
    expect(error).toMatchObject({ kind: 'unavailable' });
  });
});

describe('size limits', () => {
  it('a non-streaming body over 16 MiB is a malformed response, read no further and not retried', async () => {
    const huge = `{"pad":"${'a'.repeat(MAX_RESPONSE_BODY)}"}`;
    for (const provider of all(fake.url)) {
      fake.reset();
      fake.enqueue({ raw: { body: huge, contentType: 'application/json' } });
      const error = await rejection(provider.complete(REQ));
      expect(error).toMatchObject({ code: 'malformed_response', retryable: false, attempts: 1, message: `${provider.name}: malformed response (response body larger than 16 MiB)` });
      expect(fake.chatRequestCount).toBe(1);
    }
  });

  it('a non-streaming body of exactly 16 MiB is still read', async () => {
    const [, openai] = all(fake.url);
    const head = '{"choices":[{"message":{"role":"assistant","content":"';
    const tail = '"},"finish_reason":"stop"}]}';
    const text = 'z'.repeat(MAX_RESPONSE_BODY - head.length - tail.length);
    fake.enqueue({ raw: { body: head + text + tail, contentType: 'application/json' } });
    expect((await openai!.complete(REQ)).text).toHaveLength(text.length);
  });

  it('a streamed line or event that never ends fails as malformed instead of filling memory', async () => {
    const endless = 'x'.repeat(2 * 1024 * 1024);
    for (const provider of all(fake.url)) {
      fake.reset();
      const contentType = provider.name === 'ollama' ? 'application/x-ndjson' : 'text/event-stream';
      const body = provider.name === 'ollama' ? `{"message":{"content":"${endless}` : `data: ${endless}`;
      fake.enqueue({ raw: { body, contentType }, chunkSize: 64 * 1024 });
      const { error } = await collectError(provider.stream(REQ));
      expect(error).toMatchObject({ code: 'malformed_response', retryable: false, attempts: 1 });
      expect(error.message).toMatch(/stream (line|event) longer than 1 MiB/);
    }
  });
});

describe('transportError', () => {
  it('maps network codes without leaking details', () => {
    const make = (code: string, phase: 'connect' | 'body' = 'connect') => transportError('openai', Object.assign(new Error(`getaddrinfo ${code} secret.host`), { code }), undefined, phase);
    expect(make('ENOTFOUND')).toMatchObject({ code: 'host_not_found', kind: 'unavailable', message: 'openai: host not found (ENOTFOUND)' });
    expect(make('EHOSTUNREACH').code).toBe('host_unreachable');
    expect(make('UND_ERR_CONNECT_TIMEOUT').code).toBe('connect_timeout');
    expect(make('WEIRD').code).toBe('connection_failed');
    expect(make('WEIRD', 'body').code).toBe('connection_reset');
    expect(transportError('openai', new Error('no code'), undefined, 'connect').message).toBe('openai: connection failed');
    const nested = transportError('openai', Object.assign(new Error('x'), { cause: { code: 'ECONNRESET' } }), undefined, 'connect');
    expect(nested.code).toBe('connection_reset');
    const aborted = transportError('openai', Object.assign(new Error('x'), { name: 'AbortError' }), undefined, 'body');
    expect(aborted.kind).toBe('aborted');
    const same = new ProviderError({ provider: 'openai', message: 'x' });
    expect(transportError('openai', same, undefined, 'body')).toBe(same);
  });
});
