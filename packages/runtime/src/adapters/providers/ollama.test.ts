import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST_HTTP, collect, collectError, rejection } from '../../test-support/fake-llm-helpers.js';
import { readFixture, readJsonFixture, startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { OllamaProvider } from './ollama.js';
import { ollamaTextLine } from './ollama-wire.js';
import type { ChatRequest, ToolSpec } from '../../providers/types.js';

let fake: FakeLlm;
let ollama: OllamaProvider;

const HELLO: ChatRequest = {
  model: 'llama3.2',
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say hello in five words.' },
  ],
  temperature: 0.2,
};

const WEATHER: ToolSpec = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'The city to get the weather for' } },
    required: ['city'],
  },
};

beforeAll(async () => {
  fake = await startFakeLlm();
  ollama = new OllamaProvider({ baseUrl: fake.url, http: FAST_HTTP });
});
afterAll(async () => {
  await ollama.close();
  await fake.close();
});
beforeEach(() => fake.reset());


/** What the tool-call fixtures (whole and streamed) read as. */
const TOOL_CALL_RESULT = {
  text: '',
  toolCalls: [{ id: 'call_x7k2m9qa', name: 'get_weather', arguments: '{"city":"Paris"}' }],
  finishReason: 'tool_calls',
  usage: { inputTokens: 162, outputTokens: 17 },
};

describe('ollama: complete', () => {
  it('sends stream:false with options and reads usage from prompt_eval_count/eval_count', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 31, output: 8 } });
    const result = await ollama.complete(HELLO);
    expect(result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 31, outputTokens: 8 } });
    expect(fake.lastRequest?.path).toBe('/api/chat');
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('ollama/request-basic.json'));
  });

  it('maps maxTokens to num_predict and leaves counts the server omitted undefined', async () => {
    fake.enqueue({ usage: null });
    const result = await ollama.complete({ ...HELLO, temperature: undefined, maxTokens: 10 });
    expect((fake.lastRequest?.body as Record<string, unknown>).options).toEqual({ num_predict: 10 });
    expect(result.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('parses the tool-call fixture: arguments object to JSON text, finish tool_calls', async () => {
    fake.enqueue({ fixture: 'ollama/response-tool-call.json' });
    const result = await ollama.complete({ ...HELLO, tools: [WEATHER] });
    expect(result).toEqual(TOOL_CALL_RESULT);
  });

  it('sends the tool follow-up exactly like the fixture (arguments object, tool_name + tool_call_id)', async () => {
    await ollama.complete({
      model: 'llama3.2',
      tools: [WEATHER],
      messages: [
        { role: 'user', content: "What's the weather in Paris right now?" },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_x7k2m9qa', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
        { role: 'tool', toolCallId: 'call_x7k2m9qa', content: '14 degrees celsius, light rain' },
      ],
    });
    expect(fake.lastRequest?.body).toEqual(readJsonFixture('ollama/request-tools-followup.json'));
  });

  it('gives ids to tool calls from servers older than v0.12.10', async () => {
    fake.enqueue({ toolCalls: [{ id: null, name: 'clock', arguments: '{}' }] });
    expect((await ollama.complete(HELLO)).toolCalls).toEqual([{ id: 'call_0', name: 'clock', arguments: '{}' }]);
    fake.enqueue({ toolCalls: [{ id: null, name: 'clock', arguments: '{}' }] });
    expect((await collect(ollama.stream(HELLO))).result?.toolCalls).toEqual([{ id: 'call_0', name: 'clock', arguments: '{}' }]);
  });

  it('a tool result without a known call omits tool_name', async () => {
    await ollama.complete({ ...HELLO, messages: [{ role: 'tool', toolCallId: 'zz', content: 'x' }, { role: 'tool', content: 'y' }] });
    expect((fake.lastRequest?.body as { messages: unknown[] }).messages).toEqual([
      { role: 'tool', tool_call_id: 'zz', content: 'x' },
      { role: 'tool', content: 'y' },
    ]);
  });

  it('an error object in a 200 body and a body without message are errors', async () => {
    const boom = { raw: { body: '{"error":"boom"}', contentType: 'application/json' } };
    fake.enqueue(boom, boom, boom);
    expect(await rejection(ollama.complete({ ...HELLO }))).toMatchObject({ status: 500, upstreamMessage: 'boom', attempts: 3 });
    fake.reset();
    fake.enqueue({ raw: { body: '{"done":true}', contentType: 'application/json' } });
    expect((await rejection(ollama.complete(HELLO))).code).toBe('malformed_response');
    expect(fake.chatRequestCount).toBe(1);
  });
});

describe('ollama: stream', () => {
  it('streams NDJSON tokens; usage only from the done line', async () => {
    fake.enqueue({ text: 'Hello! Nice to meet you.', usage: { input: 31, output: 8 } });
    const { texts, result } = await collect(ollama.stream(HELLO));
    expect(texts).toEqual(['Hello', '!', ' Nice', ' to', ' meet', ' you', '.']);
    expect(result?.usage).toEqual({ inputTokens: 31, outputTokens: 8 });
    expect((fake.lastRequest?.body as Record<string, unknown>).stream).toBe(true);
  });

  it('replays the basic and tool-call fixture streams split into small reads', async () => {
    fake.enqueue({ fixture: 'ollama/stream-basic.ndjson', chunkSize: 9 });
    expect((await collect(ollama.stream(HELLO))).result).toEqual({ text: 'Hello! Nice to meet you.', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 31, outputTokens: 8 } });
    fake.enqueue({ fixture: 'ollama/stream-tool-call.ndjson', chunkSize: 4 });
    const { result } = await collect(ollama.stream({ ...HELLO, tools: [WEATHER] }));
    expect(result).toEqual(TOOL_CALL_RESULT);
  });

  it('streams several whole tool calls in order', async () => {
    fake.enqueue({ toolCalls: [{ name: 'a', arguments: '{"x":1}' }, { name: 'b', arguments: '{"y":2}' }] });
    const { result } = await collect(ollama.stream(HELLO));
    expect(result?.toolCalls.map((c) => [c.name, JSON.parse(c.arguments) as unknown])).toEqual([['a', { x: 1 }], ['b', { y: 2 }]]);
  });

  it('a mid-stream {"error":...} line fails with the partial text (fixture)', async () => {
    fake.enqueue({ fixture: 'ollama/stream-error-midstream.ndjson' });
    const { error, texts } = await collectError(ollama.stream(HELLO));
    expect(texts).toEqual(['Hello', '!']);
    expect(error).toMatchObject({ kind: 'unavailable', upstreamMessage: 'an error was encountered while running the model' });
    expect(error.partial?.text).toBe('Hello!');
    expect(error.partial?.usage).toEqual({ inputTokens: undefined, outputTokens: undefined });
  });

  it('text and an error line that arrive in one write: the text is handed on, then the error fails the stream', async () => {
    const instant = await startFakeLlm({ instant: true });
    const provider = new OllamaProvider({ baseUrl: instant.url, http: { ...FAST_HTTP, maxRetries: 0 } });
    try {
      instant.enqueue({ tokens: ['one', ' two', ' three'], midStreamError: { afterTokens: 2 } });
      const { error, texts } = await collectError(provider.stream(HELLO));
      expect(texts).toEqual(['one', ' two']);
      expect(error).toMatchObject({ kind: 'unavailable', partial: { text: 'one two' } });
      instant.enqueue({ tokens: ['one', ' two', ' three'] });
      // Fragments that one read delivered travel together, each as the wire gave it.
      expect((await collect(provider.stream(HELLO))).texts).toEqual(['one', ' two', ' three']);
    } finally {
      await provider.close();
      await instant.close();
    }
  });

  it('a cut stream has partial text and no usage; no done line means truncated; bad JSON means malformed', async () => {
    fake.enqueue({ cutAfterTokens: 4 });
    const cut = await collectError(ollama.stream(HELLO));
    expect(cut.error.partial).toMatchObject({ text: 'Hello! Nice to', usage: { inputTokens: undefined, outputTokens: undefined } });
    fake.enqueue({ endAfterTokens: 2 });
    expect((await collectError(ollama.stream(HELLO))).error.code).toBe('stream_truncated');
    fake.enqueue({ malformedAfterTokens: 2 });
    expect((await collectError(ollama.stream(HELLO))).error).toMatchObject({ code: 'malformed_response', message: 'ollama: malformed response (stream line is not valid JSON)' });
  });
});

describe('ollama: errors and models', () => {
  it('404 model not found (current and legacy text) is matched on the status', async () => {
    for (const file of ['ollama/error-404-model-not-found.json', 'ollama/error-404-model-not-found-legacy.json']) {
      fake.reset();
      fake.enqueue({ error: { status: 404, body: readJsonFixture(file) } });
      const error = await rejection(ollama.complete({ ...HELLO, model: 'llama9' }));
      expect(error).toMatchObject({ status: 404, code: 'model_not_found', kind: 'rejected', retryable: false });
      expect(error.upstreamMessage).toContain('llama9');
      expect(fake.chatRequestCount).toBe(1);
    }
  });

  it('503 queue full is retried', async () => {
    fake.enqueue({ error: { status: 503 } }, {});
    expect((await collect(ollama.stream(HELLO))).result?.text).toBe('Hello! Nice to meet you.');
    expect(fake.chatRequestCount).toBe(2);
  });

  it('lists the installed models from /api/tags', async () => {
    const models = await ollama.listModels();
    expect(models[0]?.name).toBe('llama3.2:latest');
    expect(models[0]?.size).toBeGreaterThan(0);
    expect(fake.lastRequest?.method).toBe('GET');
  });
});

describe('ollama: the text-only line read without JSON.parse', () => {
  const line = (content: string, { before = '', after = '' } = {}) =>
    `{"model":"llama3.2","created_at":"2026-03-13T11:08:40.104218Z"${before},"message":{"role":"assistant","content":${content}${after}},"done":false}`;
  /** What the full parse makes of a line, when it is a text-only line. */
  const parsed = (l: string): string | undefined => {
    let obj: { message?: { role?: unknown; content?: unknown }; done?: unknown } & Record<string, unknown>;
    try {
      obj = JSON.parse(l) as typeof obj;
    } catch {
      return undefined;
    }
    const plain =
      Object.keys(obj).join() === 'model,created_at,message,done' && obj.done === false && Object.keys(obj.message ?? {}).join() === 'role,content';
    return plain && typeof obj.message?.content === 'string' ? obj.message.content : undefined;
  };

  it('reads the text lines of the fixtures, and no other line', () => {
    for (const file of ['stream-basic.ndjson', 'stream-error-midstream.ndjson', 'stream-tool-call.ndjson']) {
      for (const l of readFixture(`ollama/${file}`).split('\n').filter(Boolean)) {
        const obj = JSON.parse(l) as { done: boolean; error?: string; message?: { tool_calls?: unknown } };
        const text = obj.done || obj.error !== undefined || obj.message?.tool_calls !== undefined;
        expect(ollamaTextLine(l)).toBe(text ? undefined : parsed(l));
      }
    }
  });

  it('gives what JSON.parse gives for escapes, quotes and non-ASCII text, and declines anything else', () => {
    const texts = ['', 'plain', 'He said "hi"', 'back\\slash', 'tab\tnew\nline', 'é ☕ 😀', '\u0000', '"},"done":true}', '\\"'];
    for (const t of texts) expect(ollamaTextLine(line(JSON.stringify(t)))).toBe(t);
    const declined = [
      line('"raw\ttab"'), // a raw control character: not JSON
      line('"bad \\x escape"'),
      line('"unterminated\\"'),
      line('"a","thinking":"b"'),
      line('"x"', { before: ',"error":"e"' }),
      line('"x"', { after: ',"tool_calls":[]' }),
      line('"x"').replace('"done":false', '"done":true'),
      line('"x"').replace('{"model"', '{ "model"'),
      line('"x"').replace('"assistant"', '"user"'),
      `${line('"x"')} `,
    ];
    for (const l of declined) expect(ollamaTextLine(l), l).toBeUndefined();
  });

  it('never answers differently from the full parse (random lines)', () => {
    const pieces = ['a', ' ', '"', '\\', '\\"', '\\n', '\\u00e9', '\\u12', '}', ',"done":false}', '\t', 'é', '{"x":1}'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const answered = { fast: 0, full: 0 };
    for (let i = 0; i < 3000; i++) {
      const body = Array.from({ length: random(6) }, () => pieces[random(pieces.length)]).join('');
      const l = line(`"${body}"`);
      const fast = ollamaTextLine(l);
      expect(fast, l).toBe(parsed(l));
      answered[fast === undefined ? 'full' : 'fast']++;
    }
    // Both kinds came up: lines it reads, and lines that are not valid text lines.
    expect(Math.min(answered.fast, answered.full)).toBeGreaterThan(300);
  });
});
