import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_HTTP, collect, collectError, rejection } from '../../test-support/fake-llm-helpers.js';
import { readJsonFixture, startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { ChatRequest, ToolSpec } from '../../providers/types.js';

const KEY = 'sk-test-0123456789abcdefghijklmnop';
let fake: FakeLlm;
let openai: OpenAiCompatibleProvider;
let compatible: OpenAiCompatibleProvider;

const HELLO: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say hello in five words.' },
  ],
  temperature: 0.2,
  maxTokens: 64,
};

const WEATHER: ToolSpec = {
  name: 'get_weather',
  description: 'Get the current weather for a city.',
  parameters: {
    type: 'object',
    properties: {
      location: { type: 'string', description: 'City and country, e.g. Paris, France' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    },
    required: ['location', 'unit'],
    additionalProperties: false,
  },
  strict: true,
};

beforeAll(async () => {
  fake = await startFakeLlm();
  openai = new OpenAiCompatibleProvider({ name: 'openai', baseUrl: fake.openAiUrl, apiKey: KEY, http: FAST_HTTP });
  compatible = new OpenAiCompatibleProvider({ name: 'openai-compatible', baseUrl: `${fake.openAiUrl}/`, http: FAST_HTTP });
});
afterAll(async () => {
  await openai.close();
  await compatible.close();
  await fake.close();
});
beforeEach(() => fake.reset());

describe('openai: complete', () => {
  it('returns text, usage and finish reason, and sends the documented request', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 24, output: 8 } });
    const result = await openai.complete(HELLO);
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 24, outputTokens: 8 } });
    expect(fake.lastRequest?.path).toBe('/v1/chat/completions');
    expect(fake.lastRequest?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(fake.lastRequest?.headers['content-type']).toBe('application/json');
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('openai/request-basic.json'));
  });

  it('reports usage as undefined, not 0, when the response has none', async () => {
    fake.enqueue({ usage: null });
    expect((await openai.complete(HELLO)).usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('uses max_tokens for generic compatible servers and sends no Authorization without a key', async () => {
    await compatible.complete(HELLO);
    const body = fake.lastRequest?.body as Record<string, unknown>;
    expect(body.max_tokens).toBe(64);
    expect(body.max_completion_tokens).toBeUndefined();
    expect(fake.lastRequest?.headers.authorization).toBeUndefined();
  });

  it('returns the tool calls with arguments as the raw string', async () => {
    fake.enqueue({
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
        { id: 'call_b', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
      ],
    });
    const result = await openai.complete({ ...HELLO, tools: [WEATHER] });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.text).toBe('');
    expect(result.toolCalls).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
      { id: 'call_b', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
    ]);
  });

  it('parses the fixture responses', async () => {
    fake.enqueue({ fixture: 'openai/response-tool-call.json' });
    const result = await openai.complete(HELLO);
    expect(result.toolCalls.map((c) => c.id)).toEqual(['call_Vb3Kq9XeLm2TzR7wYp4NsD1h', 'call_G8nWc5JtQa0FyU6kHr2BxM9e']);
    expect(result.usage).toEqual({ inputTokens: 86, outputTokens: 52 });
    fake.enqueue({ fixture: 'openai/response-basic.json' });
    expect((await openai.complete(HELLO)).text).toBe('Hello! Nice to meet you.');
  });

  it('sends the tool-call follow-up exactly like the fixture (arguments as strings, one tool message per call)', async () => {
    const want = readJsonFixture<Record<string, unknown>>('openai/request-tools-followup.json');
    await openai.complete({
      model: 'gpt-4o-mini',
      tools: [WEATHER],
      messages: [
        { role: 'user', content: "What's the weather in Paris and in Tokyo right now?" },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'call_Vb3Kq9XeLm2TzR7wYp4NsD1h', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
            { id: 'call_G8nWc5JtQa0FyU6kHr2BxM9e', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
          ],
        },
        { role: 'tool', toolCallId: 'call_Vb3Kq9XeLm2TzR7wYp4NsD1h', content: '{"temperature":14,"unit":"celsius","condition":"light rain"}' },
        { role: 'tool', toolCallId: 'call_G8nWc5JtQa0FyU6kHr2BxM9e', content: '{"temperature":22,"unit":"celsius","condition":"clear"}' },
      ],
    });
    expect(fake.lastRequest?.body).toEqual(want);
  });

  it('rejects a 200 body without choices as malformed', async () => {
    fake.enqueue({ raw: { body: '{"id":"x"}', contentType: 'application/json' } });
    const error = await rejection(openai.complete(HELLO));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.code).toBe('malformed_response');
    fake.enqueue({ raw: { body: '<html>bad gateway</html>', contentType: 'text/html' } });
    expect(await rejection(openai.complete(HELLO))).toMatchObject({ code: 'malformed_response', answered: false });
  });

  it('marks a 200 JSON answer cut short as answered (generated upstream, unreadable here); a whole non-reply is not', async () => {
    fake.enqueue({ raw: { body: '{"id":"chatcmpl-1","choices":[{"message":{"content":"Hel', contentType: 'application/json' } });
    expect(await rejection(openai.complete(HELLO))).toMatchObject({ code: 'malformed_response', answered: true });
    fake.enqueue({ raw: { body: '{"id":"x"}', contentType: 'application/json' } });
    expect(await rejection(openai.complete(HELLO))).toMatchObject({ code: 'malformed_response', answered: false });
    fake.enqueue({ error: { status: 503 } }, { error: { status: 503 } }, { error: { status: 503 } });
    expect(await rejection(openai.complete(HELLO))).toMatchObject({ status: 503, answered: false });
  });

  it('does not retry a 200 answer whose connection broke mid-body: it was generated and billed upstream, so it fails as answered', async () => {
    const body = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }] });
    // Only the broken answer is queued: a retry would get the fake's default reply, and succeed.
    fake.enqueue({ raw: { body, contentType: 'application/json' }, cutAfterChars: 30 });
    const before = fake.chatRequestCount;
    expect(await rejection(openai.complete(HELLO))).toMatchObject({ code: 'connection_reset', answered: true, retryable: true, attempts: 1 });
    expect(fake.chatRequestCount - before).toBe(1);
  });

  it('turns an error object inside a 200 body into a ProviderError', async () => {
    fake.enqueue({ raw: { body: JSON.stringify({ error: { message: 'nope', type: 'invalid_request_error', code: 'bad' } }), contentType: 'application/json' } });
    const error = await rejection(openai.complete(HELLO));
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'bad', status: 400, kind: 'rejected', answered: false });
  });
});

describe('openai: stream', () => {
  it('streams tokens, then one finish with the usage from the last chunk', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 24, output: 8 } });
    const { texts, result, events } = await collect(openai.stream(HELLO));
    expect(texts).toEqual(['Hello', '!', ' Nice', ' to', ' meet', ' you', '.']);
    expect(events.at(-1)?.type).toBe('finish');
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 24, outputTokens: 8 } });
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('openai/request-stream-basic.json'));
  });

  it('reports no usage when include_usage is off', async () => {
    const noUsage = new OpenAiCompatibleProvider({ name: 'openai', baseUrl: fake.openAiUrl, includeUsage: false, http: FAST_HTTP });
    const { result } = await collect(noUsage.stream(HELLO));
    expect((fake.lastRequest?.body as Record<string, unknown>).stream_options).toBeUndefined();
    expect(result?.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
    await noUsage.close();
  });

  it('accumulates parallel tool calls by index from fragments', async () => {
    fake.enqueue({
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}', fragments: ['{"', 'location":"', 'Paris, France', '","unit":"celsius"}'] },
        { id: 'call_b', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
      ],
    });
    const { texts, result } = await collect(openai.stream({ ...HELLO, tools: [WEATHER] }));
    expect(texts).toEqual([]);
    expect(result?.finishReason).toBe('tool_calls');
    expect(result?.toolCalls).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
      { id: 'call_b', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
    ]);
  });

  it('replays the recorded-format streams: basic with usage, tool calls without', async () => {
    fake.enqueue({ fixture: 'openai/stream-basic.sse', chunkSize: 7 });
    const basic = await collect(openai.stream(HELLO));
    expect(basic.result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 24, outputTokens: 8 } });

    fake.enqueue({ fixture: 'openai/stream-tool-call.sse', chunkSize: 13 });
    const tools = await collect(openai.stream({ ...HELLO, tools: [WEATHER] }));
    expect(tools.result?.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
    expect(tools.result?.toolCalls).toEqual([
      { id: 'call_Vb3Kq9XeLm2TzR7wYp4NsD1h', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
      { id: 'call_G8nWc5JtQa0FyU6kHr2BxM9e', name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
    ]);
    for (const call of tools.result?.toolCalls ?? []) expect(JSON.parse(call.arguments)).toMatchObject({ unit: 'celsius' });
  });

  it("speaks Ollama's /v1 dialect (role with the first content, usage without details)", async () => {
    fake.enqueue({ fixture: 'ollama/v1-stream-basic.sse', chunkSize: 5 });
    const { result } = await collect(compatible.stream({ ...HELLO, model: 'llama3.2' }));
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 31, outputTokens: 8 } });
    fake.enqueue({ fixture: 'ollama/v1-error-404.json', status: 404 });
    const error = await rejection(compatible.complete({ ...HELLO, model: 'llama9' }));
    expect(error).toMatchObject({ status: 404, type: 'not_found_error', kind: 'rejected', retryable: false });
    expect(fake.chatRequestCount).toBe(2);
  });

  it('ignores comments and multi-line data events from proxies', async () => {
    const chunk = (content: string) => `data: {"choices":[{"index":0,\ndata: "delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
    const body = `: keep-alive\n\n${chunk('Hi')}${chunk(' there')}data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n`;
    fake.enqueue({ raw: { body, contentType: 'text/event-stream' } });
    const { result } = await collect(compatible.stream(HELLO));
    expect(result).toMatchObject({ text: 'Hi there', finishReason: 'length' });
  });

  it('accepts a stream that ends after the finish reason without [DONE]', async () => {
    const body = 'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
    fake.enqueue({ raw: { body, contentType: 'text/event-stream' } });
    expect((await collect(compatible.stream(HELLO))).result?.text).toBe('ok');
  });

  it('a mid-stream error event becomes a ProviderError carrying the partial text', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', midStreamError: { afterTokens: 2 } });
    const { error, texts } = await collectError(openai.stream(HELLO));
    expect(texts).toEqual(['Hello', '!']);
    expect(error).toMatchObject({ type: 'server_error', status: 500, retryable: true, kind: 'unavailable' });
    expect(error.partial).toEqual({ text: 'Hello!', toolCalls: [], finishReason: 'unknown', usage: { inputTokens: undefined, outputTokens: undefined } });
    expect(fake.chatRequestCount).toBe(1); // text had reached the caller: no retry
  });

  it('a stream cut mid-way fails with the partial text and no usage', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', cutAfterTokens: 3 });
    const { error, texts } = await collectError(openai.stream(HELLO));
    expect(texts).toEqual(['Hello', '!', ' Nice']);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'connection_reset', kind: 'unavailable' });
    expect(error.partial?.text).toBe('Hello! Nice');
    expect(error.partial?.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('a stream that ends cleanly before any finish is truncated, with its partial text', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', endAfterTokens: 2 });
    const { error } = await collectError(openai.stream(HELLO));
    expect(error).toMatchObject({ code: 'stream_truncated', kind: 'unavailable' });
    expect(error.partial?.text).toBe('Hello!');
  });

  it('malformed SSE gives a clear malformed_response error and is not retried', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', malformedAfterTokens: 1 });
    const { error, texts } = await collectError(openai.stream(HELLO));
    expect(texts).toEqual(['Hello']);
    expect(error).toMatchObject({ code: 'malformed_response', retryable: false });
    expect(error.message).toBe('openai: malformed response (stream chunk is not valid JSON)');
    expect(error.partial?.text).toBe('Hello');
    fake.enqueue({ malformedAfterTokens: 0 });
    expect((await collectError(openai.stream(HELLO))).error.code).toBe('malformed_response');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('rejects a tool-call delta without an index as malformed', async () => {
    const body = 'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c","function":{"name":"x","arguments":""}}]},"finish_reason":null}]}\n\n';
    fake.enqueue({ raw: { body, contentType: 'text/event-stream' } });
    expect((await collectError(openai.stream(HELLO))).error.code).toBe('malformed_response');
  });
});

describe('openai: models', () => {
  it('lists the models of GET {baseUrl}/models, with the key when there is one', async () => {
    expect(await openai.listModels()).toEqual([
      { name: 'gpt-4o-mini', ownedBy: 'system' },
      { name: 'gpt-4o', ownedBy: 'system' },
      { name: 'text-embedding-3-small', ownedBy: 'system' },
    ]);
    expect(fake.lastRequest).toMatchObject({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${KEY}` } });
    expect((await compatible.listModels()).map((m) => m.name)).toContain('gpt-4o-mini');
    expect(fake.lastRequest?.path).toBe('/v1/models');
    expect(fake.lastRequest?.headers.authorization).toBeUndefined();
    expect(fake.chatRequestCount).toBe(0);
  });

  it('says what failed when the server has no model list', async () => {
    const elsewhere = new OpenAiCompatibleProvider({ name: 'openai-compatible', baseUrl: `${fake.url}/nothing-here`, http: FAST_HTTP });
    const error = await rejection(elsewhere.listModels());
    expect(error).toMatchObject({ status: 404, kind: 'rejected' });
  });
});

describe('openai: error bodies', () => {
  it('429 rate limit is retried (honouring retry-after) and then succeeds', async () => {
    fake.enqueue({ error: { status: 429, body: readJsonFixture('openai/error-429.json'), headers: { 'retry-after': '0' } } }, { text: 'ok' });
    expect((await openai.complete(HELLO)).text).toBe('ok');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('429 insufficient_quota is not retried and is rejected', async () => {
    fake.enqueue({ error: { status: 429, body: readJsonFixture('openai/error-429-insufficient-quota.json'), headers: { 'retry-after': '0' } } });
    const error = await rejection(openai.complete(HELLO));
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', retryable: false, kind: 'rejected', attempts: 1, requestId: 'req_fake0001' });
    expect(fake.chatRequestCount).toBe(1);
  });

  it('400 context_length_exceeded is not retried; the message holds no prompt', async () => {
    fake.enqueue({ error: { status: 400, body: readJsonFixture('openai/error-400-context-length.json') } });
    const error = await rejection(openai.stream(HELLO)[Symbol.asyncIterator]().next());
    expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', type: 'invalid_request_error', kind: 'rejected' });
    expect(error.message).toBe('openai: upstream status 400, type invalid_request_error, code context_length_exceeded');
    expect(error.upstreamMessage).toContain('maximum context length');
    expect(JSON.stringify(error)).not.toContain(KEY);
    expect(JSON.stringify(error)).not.toContain('Say hello');
    expect(fake.chatRequestCount).toBe(1);
  });

  it('500s are retried up to the limit, then the provider is unavailable', async () => {
    fake.enqueue({ error: { status: 500 } }, { error: { status: 502 } }, { error: { status: 503 } }, { text: 'never' });
    const error = await rejection(openai.complete(HELLO));
    expect(error).toMatchObject({ status: 503, kind: 'unavailable', retryable: true, attempts: 3 });
    expect(fake.chatRequestCount).toBe(3);
  });

  it('handles vLLM-style and plain-text error bodies', async () => {
    fake.enqueue({ error: { status: 400, body: { object: 'error', message: 'bad', type: 'BadRequestError', param: null, code: 400 } } });
    expect(await rejection(compatible.complete(HELLO))).toMatchObject({ status: 400, type: 'BadRequestError', code: undefined, upstreamMessage: 'bad' });
    fake.enqueue({ error: { status: 401, body: 'Unauthorized' } });
    expect(await rejection(compatible.complete(HELLO))).toMatchObject({ status: 401, kind: 'rejected', upstreamMessage: undefined });
    fake.enqueue({ error: { status: 400, body: { error: 'plain message' } } });
    expect(await rejection(compatible.complete(HELLO))).toMatchObject({ upstreamMessage: 'plain message' });
  });
});
