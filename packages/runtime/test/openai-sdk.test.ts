import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { startTestServer, type TestServer } from '../src/test-support/harness.js';

/**
 * The official `openai` npm client, unchanged, pointed at the runtime's `/v1` with a tenant key:
 * the tenant's agents are its models, and chat completions work streaming and not, whichever
 * provider backs the agent.
 */

const OPERATOR_KEY = 'agk_openai_sdk_operator_key_0123456789abcdefg';
const AGENTS = [
  ['local-llama', 'ollama', 'llama3.2'],
  ['vllm-box', 'openai-compatible', 'qwen2.5'],
  ['gpt', 'openai', 'gpt-4o-mini'],
  ['claude', 'anthropic', 'claude-haiku-4-5'],
] as const;

let llm: FakeLlm;
let server: TestServer;
let tenantId: string;
let client: OpenAI;

async function api<T>(method: string, url: string, key: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startTestServer({
    AGENTIK_LOG_LEVEL: 'silent',
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    AGENTIK_OLLAMA_URL: llm.url,
    AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
    AGENTIK_ANTHROPIC_BASE_URL: llm.url,
    AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test',
  });
  tenantId = (await api<{ id: string }>('POST', '/api/tenants', OPERATOR_KEY, { name: 'SDK', owner: 'o@example.com', plan: 'enterprise' })).id;
  const { key } = await api<{ key: string }>('POST', `/api/tenants/${tenantId}/keys`, OPERATOR_KEY, { role: 'member' });
  for (const [name, provider, model] of AGENTS) {
    await api('POST', '/api/agents', key, { name, systemPrompt: `You are ${name}.`, provider, model });
  }
  // Another tenant's agent must never show up as a model.
  const other = (await api<{ id: string }>('POST', '/api/tenants', OPERATOR_KEY, { name: 'Other', owner: 'o@example.com' })).id;
  const otherKey = (await api<{ key: string }>('POST', `/api/tenants/${other}/keys`, OPERATOR_KEY, { role: 'owner' })).key;
  await api('POST', '/api/agents', otherKey, { name: 'secret-agent', systemPrompt: '', provider: 'ollama', model: 'llama3.2' });
  client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
  await llm.close();
});

describe('the official openai client against /v1', () => {
  it("models.list() returns the tenant's agents by name", async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id).sort()).toEqual(AGENTS.map(([name]) => name).sort());
    expect(models.every((m) => m.object === 'model' && typeof m.created === 'number' && typeof m.owned_by === 'string')).toBe(true);
  });

  for (const [name, provider] of AGENTS) {
    it(`chat.completions.create, not streaming, through ${provider}`, async () => {
      llm.enqueue({ text: `Hi from ${provider}!` });
      const completion = await client.chat.completions.create({
        model: name,
        messages: [
          { role: 'system', content: 'Answer in English.' },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi, how can I help?' },
          { role: 'user', content: 'Say hi' },
        ],
      });
      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe(name);
      expect(completion.choices).toHaveLength(1);
      expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: `Hi from ${provider}!` });
      expect(completion.choices[0]!.finish_reason).toBe('stop');
      expect(completion.usage).toEqual({ prompt_tokens: 24, completion_tokens: 8, total_tokens: 32 });
      // The client's history reached the provider, in order, after the agent's system prompt.
      const sent = JSON.stringify(llm.lastRequest!.body);
      expect(sent).toContain(`You are ${name}.`);
      expect(sent.indexOf('Hi, how can I help?')).toBeGreaterThan(sent.indexOf('Hello'));
      expect(sent.indexOf('Say hi')).toBeGreaterThan(sent.indexOf('Hi, how can I help?'));
    });

    it(`chat.completions.create, streaming with include_usage, through ${provider}`, async () => {
      llm.enqueue({ text: 'Streaming through the SDK works.' });
      const stream = await client.chat.completions.create({
        model: name,
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      const chunks = [];
      for await (const chunk of stream) {
        chunks.push(chunk);
        text += chunk.choices[0]?.delta.content ?? '';
      }
      expect(text).toBe('Streaming through the SDK works.');
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
      expect(chunks.at(-1)!.choices).toEqual([]);
      expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 24, completion_tokens: 8, total_tokens: 32 });
    });
  }

  it('takes content given as an array of text parts', async () => {
    const completion = await client.chat.completions.create({
      model: 'vllm-box',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'part one, ' }, { type: 'text', text: 'part two' }] }],
    });
    expect(completion.choices[0]!.message.content).toBe('Hello! Nice to meet you.');
    expect(JSON.stringify(llm.lastRequest!.body)).toContain('part one, part two');
  });

  it('a provider failing mid-stream surfaces as an error in the SDK stream, after the text so far', async () => {
    llm.enqueue({ text: 'one two three four', midStreamError: { afterTokens: 2 } });
    const stream = await client.chat.completions.create({ model: 'vllm-box', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('one two');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/unavailable/i);
  });

  it('streams without a usage chunk when it was not asked for', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello! Nice to meet you.');
  });

  it('an agent named by its id: both forms report its name as the model; a streamed id is one id for the whole stream', async () => {
    const listed = await fetch(`${server.url}/api/agents`, { headers: { authorization: `Bearer ${client.apiKey}` } }).then(
      (r) => r.json() as Promise<{ data: Array<{ id: string; name: string }> }>,
    );
    const gpt = listed.data.find((a) => a.name === 'gpt')!;
    const completion = await client.chat.completions.create({ model: gpt.id, messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.model).toBe('gpt');
    const stream = await client.chat.completions.create({ model: gpt.id, messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['gpt']));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[0-9a-hjkmnp-tv-z]{26}$/);
    expect(chunks[0]!.id).not.toBe(completion.id);
  });

  it('an unknown model is an APIError with status 404', async () => {
    const calls = llm.chatRequestCount;
    const error = await client.chat.completions.create({ model: 'no-such-agent', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    // Another tenant's agent name is just as unknown.
    const foreign = await client.chat.completions.create({ model: 'secret-agent', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((foreign as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect(llm.chatRequestCount).toBe(calls);
  });

  it('a bad request is a 400 APIError, not a crash', async () => {
    const error = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'assistant', content: 'no user turn' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('the operator key without X-Tenant-ID is rejected; with it, it acts in that tenant', async () => {
    const operator = new OpenAI({ apiKey: OPERATOR_KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const error = await operator.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    const chat = await operator.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((chat as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    const scoped = new OpenAI({ apiKey: OPERATOR_KEY, baseURL: `${server.url}/v1`, maxRetries: 0, defaultHeaders: { 'X-Tenant-ID': tenantId } });
    const models = [];
    for await (const m of scoped.models.list()) models.push(m.id);
    expect(models).toHaveLength(AGENTS.length);
  });

  it('a wrong key is a 401 AuthenticationError', async () => {
    const wrong = new OpenAI({ apiKey: 'agk_wrong_key_0000000000000000000000000000', baseURL: `${server.url}/v1`, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

/**
 * Issue 15: a streamed `/v1/chat/completions` reply, read with the official client, is chunk for
 * chunk the text the model streamed (the fake writes each of its 20 chunks separately), whatever
 * the runtime does to write it faster (one JSON text per delta built from a fixed prefix and
 * suffix, events coalesced into fewer socket writes).
 */
const TOKENS = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'Chunk' : i % 7 === 0 ? ` "quoted\\ ${i}"\n` : ` ü${i}`));

describe('a streamed /v1 reply through the official openai client', () => {
  for (const model of ['local-llama', 'gpt']) {
    it(`is chunk for chunk the model's 20 streamed chunks (${model})`, async () => {
      llm.enqueue({ tokens: TOKENS });
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      // The role chunk, one chunk per streamed token in order, the finish chunk, the usage chunk.
      expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
      expect(chunks.slice(1, -2).map((c) => c.choices[0]!.delta.content)).toEqual(TOKENS);
      expect(chunks.slice(1, -2).every((c) => c.choices[0]!.finish_reason === null && c.choices[0]!.logprobs === null)).toBe(true);
      expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
      expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 24, completion_tokens: 8, total_tokens: 32 });
      expect(new Set(chunks.map((c) => `${c.id} ${c.created} ${c.model} ${c.object}`))).toEqual(new Set([`${chunks[0]!.id} ${chunks[0]!.created} ${model} chat.completion.chunk`]));
    });
  }

  it('writes every event as one data line of JSON in the usual key order, then [DONE]', async () => {
    llm.enqueue({ tokens: TOKENS });
    const key = client.apiKey;
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'go' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = (await res.text()).split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.pop()).toBe('data: [DONE]');
    for (const event of events) {
      expect(event.startsWith('data: ')).toBe(true);
      const json = event.slice('data: '.length);
      // The bytes JSON.stringify gives for the same chunk object, keys in the order of the chunk.
      const parsed = JSON.parse(json) as { id: string; created: number; model: string; choices: Array<{ delta: unknown; finish_reason: unknown }> };
      const c = parsed.choices[0]!;
      const canonical = JSON.stringify({ id: parsed.id, object: 'chat.completion.chunk', created: parsed.created, model: parsed.model, choices: [{ index: 0, delta: c.delta, logprobs: null, finish_reason: c.finish_reason }] });
      expect(json).toBe(canonical);
    }
    expect(events.slice(1, -1).map((e) => (JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content)).toEqual(TOKENS);
  });
});
