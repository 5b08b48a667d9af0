import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '@agentik/shared';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { closedPort } from '../src/test-support/fake-llm-helpers.js';
import { bearer, parseSseBody, startTestServer, type TestServer } from '../src/test-support/harness.js';

/**
 * Streaming and everything that can go wrong around a message, through the real listening
 * server: the SSE format, a client that goes away, a provider that is down, says no, breaks
 * mid-stream or sends broken framing, the tool loop, and bad input. Ollama points at a closed
 * port (the outage); OpenAI, OpenAI-compatible and Anthropic point at the fake.
 */

const OPERATOR_KEY = 'agk_streaming_operator_key_0123456789abcdefgh';

let llm: FakeLlm;
let server: TestServer;
/** Holds the operator's pricing file, which must exist before the runtime starts. */
let pricingDir: string;

interface Tenant {
  key: string;
  agents: Record<string, string>;
}
let t: Tenant;

type Inject = LightMyRequestResponse;
const inject = (opts: InjectOptions): Promise<Inject> => server.app.inject(opts);
const post = (tenant: Tenant, agent: string, payload: unknown, headers: Record<string, string> = {}) =>
  inject({ method: 'POST', url: `/api/agents/${tenant.agents[agent] ?? agent}/messages`, headers: bearer(tenant.key, headers), payload: payload as Record<string, unknown> });
const getJson = async <T = Record<string, unknown>>(tenant: Tenant, url: string) => (await inject({ method: 'GET', url, headers: bearer(tenant.key) })).json() as T;

/** What the tenant has stored: conversations with their messages, cost events, the budget. */
async function snapshot(tenant: Tenant) {
  const list = await getJson<{ data: { id: string }[] }>(tenant, '/api/conversations?limit=100');
  const conversations = await Promise.all(list.data.map((c) => getJson<{ id: string; messages: { role: string; content: string }[] }>(tenant, `/api/conversations/${c.id}`)));
  const events = await getJson<{ data: { outcome: string; costUsd: number | null; inputTokens: number | null; outputTokens: number | null; usageEstimated: boolean; conversationId: string }[] }>(tenant, '/api/costs/events?limit=200');
  const budget = await getJson<{ spentUsd: number; reservedUsd: number }>(tenant, '/api/budget');
  return { conversations, events: events.data, budget };
}

async function makeTenant(name: string): Promise<Tenant> {
  const created = await inject({ method: 'POST', url: '/api/tenants', headers: server.operator(), payload: { name, owner: 'o@example.com', plan: 'enterprise' } });
  const id = (created.json() as { id: string }).id;
  const key = (await inject({ method: 'POST', url: `/api/tenants/${id}/keys`, headers: server.operator(), payload: { role: 'owner' } })).json() as { key: string };
  const tenant: Tenant = { key: key.key, agents: {} };
  const agents: Array<[string, Record<string, unknown>]> = [
    ['compat', { provider: 'openai-compatible', model: 'llama3.2' }],
    ['paid', { provider: 'openai', model: 'gpt-4o-mini', maxTokens: 200 }],
    ['claude', { provider: 'anthropic', model: 'claude-haiku-4-5', maxTokens: 200 }],
    ['down', { provider: 'ollama', model: 'paid-llama', maxTokens: 200 }],
    ['calc', { provider: 'openai-compatible', model: 'llama3.2', tools: ['calculator'] }],
    ['calc-claude', { provider: 'anthropic', model: 'claude-haiku-4-5', tools: ['calculator'] }],
    ['tiny', { provider: 'openai-compatible', model: 'llama3.2', contextTokens: 256 }],
  ];
  for (const [agent, fields] of agents) {
    const res = await inject({ method: 'POST', url: '/api/agents', headers: bearer(tenant.key), payload: { name: agent, systemPrompt: 'Be brief.', ...fields } });
    expect(res.statusCode, res.body).toBe(201);
    tenant.agents[agent] = (res.json() as { id: string }).id;
  }
  // A hard budget, so every priced call reserves and a leaked reservation would show.
  await inject({ method: 'PUT', url: '/api/budget', headers: bearer(tenant.key), payload: { monthlyLimitUsd: 100, hard: true } });
  return tenant;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  pricingDir = mkdtempSync(path.join(tmpdir(), 'agentik-stream-pricing-'));
  // Ollama's local models are free; this operator prices one so that an outage has something to reserve.
  const pricingFile = path.join(pricingDir, 'pricing.json');
  writeFileSync(pricingFile, JSON.stringify({ providers: { ollama: { models: { 'paid-llama': { inputPerMTok: 1, outputPerMTok: 2 } } } } }));
  server = await startTestServer({
    AGENTIK_LOG_LEVEL: 'silent',
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    AGENTIK_OLLAMA_URL: `http://127.0.0.1:${await closedPort()}`,
    AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
    AGENTIK_ANTHROPIC_BASE_URL: llm.url,
    AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test',
    AGENTIK_PROVIDER_RETRIES: '0',
    AGENTIK_PRICING_FILE: pricingFile,
  });
  t = await makeTenant('Streams');
});

afterAll(async () => {
  await server.close();
  await llm.close();
  rmSync(pricingDir, { recursive: true, force: true });
});

describe('SSE', () => {
  for (const agent of ['compat', 'paid', 'claude']) {
    it(`${agent}: delta events, then one done event equal to the JSON answer's shape`, async () => {
      llm.enqueue({ text: 'Streaming works fine today.' }, { text: 'Streaming works fine today.' });
      const json = await post(t, agent, { content: 'hello' });
      expect(json.statusCode).toBe(200);
      const res = await post(t, agent, { content: 'hello again', conversationId: (json.json() as { conversationId: string }).conversationId }, { accept: 'text/event-stream' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['cache-control']).toContain('no-cache');
      const events = parseSseBody(res.body);
      const deltas = events.slice(0, -1);
      const done = events.at(-1)!;
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.every((e) => e.event === 'delta' && Object.keys(e.data as object).join() === 'text')).toBe(true);
      expect(done.event).toBe('done');
      const body = done.data as { conversationId: string; message: { id: string; content: string }; usage: unknown; costUsd: number | null };
      expect(Object.keys(body).sort()).toEqual(Object.keys(json.json() as object).sort());
      expect(body.message).toEqual({ id: expect.any(String), role: 'assistant', content: 'Streaming works fine today.' });
      expect(deltas.map((e) => (e.data as { text: string }).text).join('')).toBe(body.message.content);
      expect(body.usage).toEqual({ inputTokens: 24, outputTokens: 8 });
      const stored = await getJson<{ messages: { id: string; content: string }[] }>(t, `/api/conversations/${body.conversationId}`);
      expect(stored.messages.at(-1)).toMatchObject({ id: body.message.id, content: body.message.content });
      // Regression: the user turn was stored with a later id than its answer, so turns read back
      // (and were sent to the model) answer-first.
      expect(stored.messages.map((m) => (m as unknown as { role: string }).role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      const sentTurns = (llm.lastRequest!.body as { messages: { role: string }[] }).messages.filter((m) => m.role !== 'system');
      expect(sentTurns.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    });
  }
});

describe('a client that disconnects mid-stream', () => {
  it('aborts the upstream call and records what was generated, with its cost, as aborted', async () => {
    const tenant = await makeTenant('Quitter');
    const words = Array.from({ length: 60 }, (_, i) => `word${i} `);
    llm.enqueue({ tokens: words, tokenDelayMs: 25 });
    const upstreamAborted = llm.nextClientAbort();
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/agents/${tenant.agents.paid}/messages`, {
      method: 'POST',
      headers: { ...bearer(tenant.key), accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Tell me a long story' }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const received: SseEvent[] = [];
    while (received.length < 3) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended after ${received.length} events`);
      received.push(...parser.push(decoder.decode(value, { stream: true })));
    }
    controller.abort();
    // Only complete events count as sent; everything before the abort is a delta.
    expect(received.map((e) => e.event)).toEqual(received.map(() => 'delta'));
    const aborted = await upstreamAborted;
    expect(aborted.clientClosedEarly).toBe(true);
    expect(aborted.path).toBe('/v1/chat/completions');

    let state = await snapshot(tenant);
    for (let i = 0; i < 100 && state.events.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = await snapshot(tenant);
    }
    expect(state.events).toHaveLength(1);
    const [event] = state.events;
    expect(event).toMatchObject({ outcome: 'aborted', usageEstimated: true });
    expect(event!.inputTokens).toBeGreaterThan(0);
    expect(event!.outputTokens).toBeGreaterThan(0);
    expect(event!.costUsd).toBeGreaterThan(0);
    expect(state.conversations).toHaveLength(1);
    const [user, assistant] = state.conversations[0]!.messages;
    expect(user).toMatchObject({ role: 'user', content: 'Tell me a long story' });
    const sent = received.map((e) => (JSON.parse(e.data) as { text: string }).text).join('');
    expect(assistant!.role).toBe('assistant');
    expect(assistant!.content.startsWith(sent)).toBe(true);
    expect(assistant!.content.length).toBeGreaterThanOrEqual(sent.length);
    expect(assistant!.content.length).toBeLessThan(words.join('').length);
    expect(event!.conversationId).toBe(state.conversations[0]!.id);
    expect(state.budget.reservedUsd).toBe(0);
    expect(state.budget.spentUsd).toBeCloseTo(event!.costUsd!, 9);
  });
});

describe('provider failures leave nothing half-written', () => {
  async function expectNothingWritten(run: () => Promise<void>) {
    const before = await snapshot(t);
    await run();
    const after = await snapshot(t);
    expect(after).toEqual(before);
    expect(after.budget.reservedUsd).toBe(0);
  }

  /**
   * A run that broke off after the model produced output: no turn is stored, but each broken run
   * is booked as one `failed` cost event, and the budget holds exactly what those events cost.
   */
  async function expectOnlyFailedBookings(count: number, run: () => Promise<void>) {
    const before = await snapshot(t);
    await run();
    const after = await snapshot(t);
    expect(after.conversations).toEqual(before.conversations);
    const added = after.events.filter((e) => !before.events.some((b) => JSON.stringify(b) === JSON.stringify(e)));
    expect(after.events).toHaveLength(before.events.length + count);
    expect(added).toHaveLength(count);
    for (const e of added) {
      expect(e).toMatchObject({ outcome: 'failed', usageEstimated: true });
      expect(e.outputTokens).toBeGreaterThan(0);
      expect(e.costUsd).toBeGreaterThan(0);
    }
    expect(after.budget.spentUsd - before.budget.spentUsd).toBeCloseTo(added.reduce((sum, e) => sum + e.costUsd!, 0), 12);
    expect(after.budget.reservedUsd).toBe(0);
  }

  it('an outage (connection refused) gives 502 PROVIDER_UNAVAILABLE, JSON or SSE, new or continued conversation', async () => {
    llm.enqueue({ text: 'first answer' });
    const existing = (await post(t, 'compat', { content: 'start' })).json() as { conversationId: string };
    await expectNothingWritten(async () => {
      for (const headers of [{}, { accept: 'text/event-stream' }] as Record<string, string>[]) {
        const res = await post(t, 'down', { content: 'anyone there?' }, headers);
        expect(res.statusCode).toBe(502);
        expect(res.headers['content-type']).toContain('application/json');
        expect((res.json() as { error: { code: string; message: string } }).error).toEqual({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('ollama') });
      }
    });
    // A conversation of another agent cannot be continued by the one that is down either.
    const res = await post(t, 'down', { content: 'x', conversationId: existing.conversationId });
    expect(res.statusCode).toBe(404);
  });

  it('a provider 400 gives 502 PROVIDER_ERROR', async () => {
    await expectNothingWritten(async () => {
      for (const agent of ['compat', 'claude']) {
        llm.enqueue({ error: { status: 400 } });
        const res = await post(t, agent, { content: 'bad request upstream' });
        expect(res.statusCode).toBe(502);
        expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_ERROR');
      }
    });
  });

  it('a provider 503 (retries off) gives 502 PROVIDER_UNAVAILABLE', async () => {
    await expectNothingWritten(async () => {
      llm.enqueue({ error: { status: 503 } });
      const res = await post(t, 'paid', { content: 'overloaded?' });
      expect(res.statusCode).toBe(502);
      expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
    });
  });

  it('a mid-stream provider error after some deltas ends the stream with an SSE error event; what streamed is booked as failed', async () => {
    for (const agent of ['compat', 'claude']) {
      await expectOnlyFailedBookings(1, async () => {
        llm.enqueue({ text: 'one two three four five', midStreamError: { afterTokens: 2 } });
        const res = await post(t, agent, { content: 'stream then fail' }, { accept: 'text/event-stream' });
        expect(res.statusCode).toBe(200);
        const events = parseSseBody(res.body);
        expect(events.slice(0, -1).every((e) => e.event === 'delta')).toBe(true);
        expect(events.slice(0, -1).map((e) => (e.data as { text: string }).text).join('')).toBe('one two');
        expect(events.at(-1)).toEqual({ event: 'error', data: { error: { code: 'PROVIDER_UNAVAILABLE', message: expect.any(String) } } });
        expect(events.some((e) => e.event === 'done')).toBe(false);
      });
    }
  });

  it('malformed SSE from the provider gives a clear error, before or after the first delta (booked as failed once something came back)', async () => {
    const malformedEarly = async (agent: string) => {
      llm.enqueue({ text: 'alpha beta gamma', malformedAfterTokens: 0 });
      const early = await post(t, agent, { content: 'broken framing' }, { accept: 'text/event-stream' });
      expect(early.statusCode).toBe(502);
      expect((early.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
    };
    for (const agent of ['compat', 'claude']) {
      await expectOnlyFailedBookings(2, async () => {
        llm.enqueue({ text: 'alpha beta gamma', malformedAfterTokens: 1 });
        const late = parseSseBody((await post(t, agent, { content: 'broken framing' }, { accept: 'text/event-stream' })).body);
        expect(late.map((e) => e.event)).toEqual(['delta', 'error']);
        expect((late[1]!.data as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
        // A 2xx JSON answer that cannot be read was generated all the same.
        llm.enqueue({ raw: { body: '{"id":"chatcmpl-1","choices":[{"message":', contentType: 'application/json' } });
        const json = await post(t, agent, { content: 'broken json' });
        expect(json.statusCode).toBe(502);
        expect((json.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
      });
    }
    // Broken before the first delta: OpenAI-compatible had sent nothing, so nothing is booked...
    await expectNothingWritten(() => malformedEarly('compat'));
    // ...Anthropic had reported the prompt's tokens (message_start): those are booked, with no output.
    const before = (await snapshot(t)).events.length;
    await malformedEarly('claude');
    const after = await snapshot(t);
    expect(after.events).toHaveLength(before + 1);
    expect(after.events.find((e) => e.outcome === 'failed' && e.outputTokens === 0)).toMatchObject({ inputTokens: 24, outputTokens: 0, usageEstimated: true });
    expect(after.budget.reservedUsd).toBe(0);
  });
});

describe('the tool loop', () => {
  for (const [agent, stream] of [
    ['calc', false],
    ['calc', true],
    ['calc-claude', false],
    ['calc-claude', true],
  ] as const) {
    it(`${agent}${stream ? ' (streaming)' : ''}: a calculator call, then the final answer; the follow-up carries the result`, async () => {
      const from = llm.requests.length;
      llm.enqueue({ toolCalls: [{ name: 'calculator', arguments: '{"expression":"6*7"}' }] }, { text: 'Six times seven is 42.' });
      const res = await post(t, agent, { content: 'What is 6*7?' }, stream ? { accept: 'text/event-stream' } : {});
      expect(res.statusCode, res.body).toBe(200);
      const body = (stream ? parseSseBody(res.body).at(-1)!.data : res.json()) as { message: { content: string }; usage: unknown };
      expect(body.message.content).toBe('Six times seven is 42.');
      expect(body.usage).toEqual({ inputTokens: 48, outputTokens: 16 });
      const sent = llm.requests.slice(from).filter((r) => r.method === 'POST');
      expect(sent).toHaveLength(2);
      const first = JSON.stringify(sent[0]!.body);
      expect(first).toContain('"calculator"');
      const followUp = JSON.stringify(sent[1]!.body);
      expect(followUp).toContain('\\"result\\":42');
      expect(followUp).toContain('6*7');
    });
  }
});

describe('bad input gets a stable 4xx and loses nothing', () => {
  it('empty, blank and oversized content, unknown agent, foreign conversation, viewer key', async () => {
    const other = await makeTenant('Other');
    llm.enqueue({ text: 'foreign answer' });
    const foreign = (await post(other, 'compat', { content: 'mine' })).json() as { conversationId: string };
    llm.enqueue({ text: 'kept answer' });
    const kept = (await post(t, 'compat', { content: 'keep me', userId: 'end-user-1' })).json() as { conversationId: string };
    const viewer = (await inject({ method: 'POST', url: '/api/keys', headers: bearer(t.key), payload: { role: 'viewer' } })).json() as { key?: string };
    const before = await snapshot(t);
    const calls = llm.chatRequestCount;
    const cases: Array<[string, () => Promise<Inject>, number, string]> = [
      ['empty content', () => post(t, 'compat', { content: '' }), 400, 'VALIDATION_FAILED'],
      ['whitespace content', () => post(t, 'compat', { content: ' \n\t\u00a0 ' }), 400, 'VALIDATION_FAILED'],
      ['no content', () => post(t, 'compat', {}), 400, 'VALIDATION_FAILED'],
      ['content over 100 000 characters', () => post(t, 'compat', { content: 'x'.repeat(100_001) }), 400, 'VALIDATION_FAILED'],
      ['1 MB content', () => post(t, 'compat', { content: 'x'.repeat(1024 * 1024) }), 413, 'PAYLOAD_TOO_LARGE'],
      ['unknown agent', () => post(t, 'no-such-agent', { content: 'hi' }), 404, 'NOT_FOUND'],
      ["another tenant's conversation", () => post(t, 'compat', { content: 'hi', conversationId: foreign.conversationId }), 404, 'NOT_FOUND'],
      ["another agent's conversation", () => post(t, 'paid', { content: 'hi', conversationId: kept.conversationId }), 404, 'NOT_FOUND'],
      ["another end-user's conversation", () => post(t, 'compat', { content: 'hi', conversationId: kept.conversationId, userId: 'end-user-2' }), 404, 'NOT_FOUND'],
      ["content over the agent's context budget", () => post(t, 'tiny', { content: 'word '.repeat(2_000) }), 400, 'VALIDATION_FAILED'],
      ['unknown field', () => post(t, 'compat', { content: 'hi', role: 'system' }), 400, 'VALIDATION_FAILED'],
      ['viewer key', () => inject({ method: 'POST', url: `/api/agents/${t.agents.compat}/messages`, headers: bearer(viewer.key ?? 'none'), payload: { content: 'hi' } }), 403, 'FORBIDDEN'],
    ];
    for (const [what, run, status, code] of cases) {
      const res = await run();
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(status);
      expect((res.json() as { error: { code: string } }).error.code, what).toBe(code);
    }
    expect(llm.chatRequestCount).toBe(calls);
    expect(await snapshot(t)).toEqual(before);
    expect((await snapshot(other)).conversations[0]!.messages).toHaveLength(2);
    llm.enqueue({ text: 'still fine' });
    expect((await post(t, 'compat', { content: 'and now a good one', conversationId: kept.conversationId, userId: 'end-user-1' })).statusCode).toBe(200);
  });
});
