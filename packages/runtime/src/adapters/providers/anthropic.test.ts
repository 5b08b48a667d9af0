import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_HTTP, collect, collectError, rejection } from '../../test-support/fake-llm-helpers.js';
import { readJsonFixture, startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { ANTHROPIC_VERSION, AnthropicProvider } from './anthropic.js';
import { toAnthropicMessages } from './anthropic-wire.js';
import type { ChatRequest, ToolSpec } from '../../providers/types.js';

const KEY = 'sk-ant-test-0123456789abcdefghij';
let fake: FakeLlm;
let anthropic: AnthropicProvider;

const HELLO: ChatRequest = {
  model: 'claude-sonnet-4-5-20250929',
  maxTokens: 256,
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say hello in five words.' },
  ],
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
    required: ['location'],
  },
};

beforeAll(async () => {
  fake = await startFakeLlm();
  anthropic = new AnthropicProvider({ baseUrl: fake.url, apiKey: KEY, http: FAST_HTTP });
});
afterAll(async () => {
  await anthropic.close();
  await fake.close();
});
beforeEach(() => fake.reset());

describe('anthropic: complete', () => {
  it('sends x-api-key, anthropic-version and a top-level system; returns text and usage', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 19, output: 10 } });
    const result = await anthropic.complete(HELLO);
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 19, outputTokens: 10 } });
    const req = fake.lastRequest;
    expect(req?.path).toBe('/v1/messages');
    expect(req?.headers['x-api-key']).toBe(KEY);
    expect(req?.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.body).toEqual(readJsonFixture('anthropic/request-basic.json'));
  });

  it('fills the required max_tokens with the default and reports missing usage as undefined', async () => {
    fake.enqueue({ usage: null });
    const result = await anthropic.complete({ ...HELLO, maxTokens: undefined, temperature: 0.5 });
    expect((fake.lastRequest?.body as Record<string, unknown>).max_tokens).toBe(4096);
    expect((fake.lastRequest?.body as Record<string, unknown>).temperature).toBe(0.5);
    expect(result.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('parses the tool_use fixture; input becomes the raw JSON text', async () => {
    fake.enqueue({ fixture: 'anthropic/response-tool-use.json' });
    const result = await anthropic.complete({ ...HELLO, tools: [WEATHER] });
    expect(result).toEqual({
      text: "I'll look up the current weather in Paris.",
      toolCalls: [{ id: 'toolu_01Kx8PzR3dVm6TqW9cNb2LsJ', name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' }],
      finishReason: 'tool_calls',
      usage: { inputTokens: 412, outputTokens: 74 },
    });
  });

  it('counts cache writes and reads as input', async () => {
    const body = { type: 'message', content: [{ type: 'text', text: 'hi' }], stop_reason: 'max_tokens', usage: { input_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 3 } };
    fake.enqueue({ raw: { body: JSON.stringify(body), contentType: 'application/json' } });
    expect(await anthropic.complete(HELLO)).toMatchObject({ finishReason: 'length', usage: { inputTokens: 1105, outputTokens: 3 } });
    fake.enqueue({ raw: { body: '{"type":"message"}', contentType: 'application/json' } });
    expect((await rejection(anthropic.complete(HELLO))).code).toBe('malformed_response');
  });

  it('sends the tool follow-up exactly like the fixture (input object, tool_result first in a user turn)', async () => {
    await anthropic.complete({
      model: 'claude-sonnet-4-5-20250929',
      maxTokens: 1024,
      tools: [WEATHER],
      messages: [
        { role: 'user', content: "What's the weather in Paris right now?" },
        {
          role: 'assistant',
          content: "I'll look up the current weather in Paris.",
          toolCalls: [{ id: 'toolu_01Kx8PzR3dVm6TqW9cNb2LsJ', name: 'get_weather', arguments: '{"location": "Paris, France", "unit": "celsius"}' }],
        },
        { role: 'tool', toolCallId: 'toolu_01Kx8PzR3dVm6TqW9cNb2LsJ', content: '{"temperature":14,"unit":"celsius","condition":"light rain"}' },
      ],
    });
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('anthropic/request-tools-followup.json'));
  });
});

describe('anthropic: message conversion', () => {
  it('groups consecutive tool results in one user turn, marks failures, and keeps bad JSON as {}', () => {
    const { system, messages } = toAnthropicMessages([
      { role: 'system', content: 'a' },
      { role: 'user', content: 'q' },
      { role: 'system', content: 'b' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'x', arguments: '{not json' }, { id: 't2', name: 'y', arguments: '' }] },
      { role: 'tool', toolCallId: 't1', content: 'boom', isError: true },
      { role: 'tool', toolCallId: 't2', content: 'ok' },
      { role: 'user', content: 'next' },
    ]);
    expect(system).toBe('a\n\nb');
    expect(messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'x', input: {} }, { type: 'tool_use', id: 't2', name: 'y', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'boom', is_error: true }, { type: 'tool_result', tool_use_id: 't2', content: 'ok' }] },
      { role: 'user', content: 'next' },
    ]);
  });
});

describe('anthropic: stream', () => {
  it('streams text deltas; input usage from message_start, output from message_delta', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 19, output: 10 } });
    const { texts, result } = await collect(anthropic.stream(HELLO));
    expect(texts.join('')).toBe('Hello! Nice to meet you.');
    expect(texts.length).toBeGreaterThan(3);
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 19, outputTokens: 10 } });
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('anthropic/request-stream-basic.json'));
  });

  it('replays the basic and tool_use fixture streams (ping ignored, input_json_delta joined)', async () => {
    fake.enqueue({ fixture: 'anthropic/stream-basic.sse', chunkSize: 11 });
    const basic = await collect(anthropic.stream(HELLO));
    expect(basic.texts).toEqual(['Hello', '! Nice to', ' meet you.']);
    expect(basic.result?.usage).toEqual({ inputTokens: 19, outputTokens: 10 });

    fake.enqueue({ fixture: 'anthropic/stream-tool-use.sse', chunkSize: 3 });
    const tools = await collect(anthropic.stream({ ...HELLO, tools: [WEATHER] }));
    expect(tools.result).toEqual({
      text: "I'll look up the current weather in Paris.",
      toolCalls: [{ id: 'toolu_01Kx8PzR3dVm6TqW9cNb2LsJ', name: 'get_weather', arguments: '{"location": "Paris, France", "unit": "celsius"}' }],
      finishReason: 'tool_calls',
      usage: { inputTokens: 412, outputTokens: 74 },
    });
  });

  it('assembles parallel tool_use blocks; an empty input becomes {}', async () => {
    fake.enqueue({
      text: 'Checking.',
      toolCalls: [
        { id: 'toolu_a', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
        { id: 'toolu_b', name: 'clock', arguments: '', fragments: [] },
      ],
    });
    const { result } = await collect(anthropic.stream({ ...HELLO, tools: [WEATHER] }));
    expect(result?.toolCalls).toEqual([
      { id: 'toolu_a', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { id: 'toolu_b', name: 'clock', arguments: '{}' },
    ]);
    expect(result?.finishReason).toBe('tool_calls');
  });

  it('event: error mid-stream (fixture) fails as overloaded with the partial text', async () => {
    fake.enqueue({ fixture: 'anthropic/stream-error-midstream.sse' });
    const { error, texts } = await collectError(anthropic.stream(HELLO));
    expect(texts).toEqual(['Hello']);
    expect(error).toMatchObject({ type: 'overloaded_error', status: 529, retryable: true, kind: 'unavailable' });
    expect(error.partial).toEqual({ text: 'Hello', toolCalls: [], finishReason: 'unknown', usage: { inputTokens: 19, outputTokens: undefined } });
    expect(fake.chatRequestCount).toBe(1);
  });

  it('an overloaded error before any text reached the caller is retried', async () => {
    fake.enqueue({ midStreamError: { afterTokens: 0 } }, { text: 'second try' });
    const { result } = await collect(anthropic.stream(HELLO));
    expect(result?.text).toBe('second try');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('a cut stream keeps the input usage it saw, and no output count', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 19, output: 10 }, cutAfterTokens: 2 });
    const { error } = await collectError(anthropic.stream(HELLO));
    expect(error.code).toBe('connection_reset');
    expect(error.partial).toMatchObject({ text: 'Hello!', usage: { inputTokens: 19, outputTokens: undefined } });
  });

  it('no message_stop means truncated; malformed data means malformed_response', async () => {
    fake.enqueue({ endAfterTokens: 1 });
    expect((await collectError(anthropic.stream(HELLO))).error.code).toBe('stream_truncated');
    fake.enqueue({ malformedAfterTokens: 1 });
    const { error } = await collectError(anthropic.stream(HELLO));
    expect(error.code).toBe('malformed_response');
    expect(error.message).toBe('anthropic: malformed response (content_block_delta event is not valid JSON)');
  });
});

describe('anthropic: error bodies', () => {
  it('529 overloaded is retried, then succeeds', async () => {
    fake.enqueue({ error: { status: 529, body: readJsonFixture('anthropic/error-529-overloaded.json') } }, { text: 'ok' });
    expect((await anthropic.complete(HELLO)).text).toBe('ok');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('429 with retry-after is retried after the wait', async () => {
    fake.enqueue({ error: { status: 429, body: readJsonFixture('anthropic/error-429-rate-limit.json'), headers: { 'retry-after': '0' } } }, {});
    const { result } = await collect(anthropic.stream(HELLO));
    expect(result?.text).toBe('Hello! Nice to meet you.');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('400 prompt too long is rejected at once with the request id', async () => {
    fake.enqueue({ error: { status: 400, body: readJsonFixture('anthropic/error-400-prompt-too-long.json') } });
    const error = await rejection(anthropic.complete(HELLO));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', kind: 'rejected', retryable: false, requestId: 'req_011CVrVb2Hx7Qe4ZdL9sNg5R' });
    expect(error.message).not.toContain(KEY);
    expect(fake.chatRequestCount).toBe(1);
  });

  it('x-should-retry: false overrides a retryable status', async () => {
    fake.enqueue({ error: { status: 500, headers: { 'x-should-retry': 'false' } } });
    const error = await rejection(anthropic.complete(HELLO));
    expect(error).toMatchObject({ status: 500, retryable: false, kind: 'unavailable' });
    expect(fake.chatRequestCount).toBe(1);
  });
});
