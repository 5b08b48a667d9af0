import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../src/test-support/fake-llm-helpers.js';
import { startFakeLlm, type FakeLlm, type FakeReply } from '../src/test-support/fake-llm.js';
import { bearer, parseSseBody, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';

/**
 * A run that fails after its model produced output is booked, on both backends: a stream that
 * breaks off mid-reply (OpenAI SSE, Anthropic SSE, Ollama NDJSON), a tool loop whose later call
 * fails after an earlier one completed. The client still gets the error; the cost event says
 * `failed`. A run that failed before any byte of a reply came back still books nothing.
 * Every agent has maxTokens 100; gpt-4o costs 2.5 $/MTok in and 10 $/MTok out, and the operator's
 * pricing file prices the Ollama model `paid-llama` (Ollama models are free by default).
 */

const ENCRYPTION_KEY = 'cd'.repeat(32);
/** The most one call of these tests may be booked for: its prompt's byte bound (well under 600 tokens) and 100 tokens out, at gpt-4o. */
const ONE_CALL_BOUND_USD = (600 * 2.5 + 100 * 10) / 1e6;
/** A reply long enough to fill maxTokens 100 when streamed in full. */
const LONG_TEXT = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');

interface Tenant {
  key: string;
  agents: Record<string, string>;
}

interface CostEventView {
  outcome: string;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  usageEstimated: boolean;
  messageId: string | null;
}

type Backend = 'sqlite' | 'postgres';

/** A runtime on `backend` with a database of its own; `close` drops it. */
async function startRuntime(backend: Backend, env: NodeJS.ProcessEnv): Promise<{ rt: TestRuntime; close(): Promise<void> }> {
  const db: TestDatabase | undefined = backend === 'postgres' ? await createTestDatabase() : undefined;
  const rt = await startTestRuntime({
    AGENTIK_LOG_LEVEL: 'warn',
    AGENTIK_ENCRYPTION_KEY: ENCRYPTION_KEY,
    AGENTIK_PROVIDER_RETRIES: '0',
    ...(db ? { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url } : {}),
    ...env,
  });
  return {
    rt,
    async close() {
      await rt.close();
      await db?.drop();
    },
  };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`failed model calls are booked (${backend})`, () => {
    let llm: FakeLlm;
    let rt: TestRuntime;
    let closeRuntime: () => Promise<void>;
    let pricingDir: string;

    beforeAll(async () => {
      llm = await startFakeLlm();
      pricingDir = mkdtempSync(path.join(tmpdir(), 'agentik-failed-calls-'));
      const pricingFile = path.join(pricingDir, 'pricing.json');
      writeFileSync(pricingFile, JSON.stringify({ providers: { ollama: { models: { 'paid-llama': { inputPerMTok: 1, outputPerMTok: 2 } } } } }));
      const started = await startRuntime(backend, {
        AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
        AGENTIK_ANTHROPIC_BASE_URL: llm.url,
        AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test',
        AGENTIK_OLLAMA_URL: llm.url,
        AGENTIK_PRICING_FILE: pricingFile,
      });
      rt = started.rt;
      closeRuntime = started.close;
    });

    afterAll(async () => {
      await closeRuntime();
      await llm.close();
      rmSync(pricingDir, { recursive: true, force: true });
    });

    async function makeTenant(runtime: TestRuntime, name: string, limitUsd = 1): Promise<Tenant> {
      const created = await runtime.createTenant({ name, plan: 'enterprise' });
      const key = await runtime.createKey(created.id);
      const tenant: Tenant = { key, agents: {} };
      const agents: Array<[string, Record<string, unknown>]> = [
        ['openai', { provider: 'openai', model: 'gpt-4o' }],
        ['anthropic', { provider: 'anthropic', model: 'claude-haiku-4-5' }],
        ['ollama', { provider: 'ollama', model: 'paid-llama' }],
        ['calc', { provider: 'openai', model: 'gpt-4o', tools: ['calculator'] }],
      ];
      for (const [agent, fields] of agents) {
        const res = await runtime.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: agent, systemPrompt: 'Be brief.', maxTokens: 100, ...fields } });
        expect(res.statusCode, res.body).toBe(201);
        tenant.agents[agent] = (res.json() as { id: string }).id;
      }
      // A hard budget: every priced call reserves, so a leaked or unbooked reservation shows.
      const put = await runtime.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(key), payload: { monthlyLimitUsd: limitUsd, hard: true } });
      expect(put.statusCode, put.body).toBe(200);
      return tenant;
    }

    const ask = (t: Tenant, agent: string, content: string, sse: boolean, runtime = rt) =>
      runtime.app.inject({ method: 'POST', url: `/api/agents/${t.agents[agent]}/messages`, headers: bearer(t.key, sse ? { accept: 'text/event-stream' } : {}), payload: { content } });
    const get = (t: Tenant, url: string, runtime = rt) => runtime.app.inject({ method: 'GET', url, headers: bearer(t.key) });
    const eventsOf = async (t: Tenant, runtime = rt) => ((await get(t, '/api/costs/events?limit=200', runtime)).json() as { data: CostEventView[] }).data;
    const budgetOf = async (t: Tenant, runtime = rt) => (await get(t, '/api/budget', runtime)).json() as { spentUsd: number; reservedUsd: number };
    const conversationsOf = async (t: Tenant, runtime = rt) => ((await get(t, '/api/conversations', runtime)).json() as { data: unknown[] }).data;

    /** The SSE reply of a run that broke off: some deltas, then the error event, never `done`. */
    function expectStreamedError(res: Awaited<ReturnType<typeof ask>>, code = 'PROVIDER_UNAVAILABLE'): string {
      expect(res.statusCode, res.body).toBe(200);
      const events = parseSseBody(res.body);
      expect(events.length).toBeGreaterThanOrEqual(2);
      expect(events.slice(0, -1).every((e) => e.event === 'delta')).toBe(true);
      expect(events.at(-1)).toEqual({ event: 'error', data: { error: { code, message: expect.any(String) } } });
      return events.slice(0, -1).map((e) => (e.data as { text: string }).text).join('');
    }

    for (const agent of ['openai', 'anthropic', 'ollama'] as const) {
      it(`${agent}: a stream that breaks off mid-reply is booked as failed, and the client gets the error event`, async () => {
        const t = await makeTenant(rt, `Broken ${agent}`);
        llm.enqueue({ text: 'one two three four five six seven', usage: { input: 30, output: 7 }, midStreamError: { afterTokens: 3 } });
        const sent = expectStreamedError(await ask(t, agent, 'stream then fail', true));
        expect(sent).toBe('one two three');

        const events = await eventsOf(t);
        expect(events).toHaveLength(1);
        const [event] = events;
        expect(event).toMatchObject({ outcome: 'failed', usageEstimated: true, messageId: null });
        expect(event!.inputTokens).toBeGreaterThan(0);
        expect(event!.outputTokens).toBeGreaterThan(0);
        expect(event!.outputTokens).toBeLessThanOrEqual(100);
        // Anthropic reports the prompt's tokens in message_start, before any text: that count is booked as reported.
        if (agent === 'anthropic') expect(event!.inputTokens).toBe(30);
        expect(event!.costUsd).toBeGreaterThan(0);
        const budget = await budgetOf(t);
        expect(budget.spentUsd).toBeGreaterThan(0);
        expect(budget.spentUsd).toBeCloseTo(event!.costUsd!, 12);
        expect(budget.reservedUsd).toBe(0);
        // The reply was not delivered as a success: no turn is stored.
        expect(await conversationsOf(t)).toEqual([]);
      });
    }

    it('a stream whose connection is cut mid-reply is booked as failed too', async () => {
      const t = await makeTenant(rt, 'Cut');
      llm.enqueue({ text: 'alpha beta gamma delta epsilon', cutAfterTokens: 2 });
      expectStreamedError(await ask(t, 'openai', 'cut me off', true));
      const events = await eventsOf(t);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'failed', usageEstimated: true });
      expect(events[0]!.outputTokens).toBeGreaterThan(0);
      expect((await budgetOf(t)).reservedUsd).toBe(0);
    });

    it('a JSON answer that came back but cannot be read (cut off, malformed) is booked as failed, output at its bound', async () => {
      const t = await makeTenant(rt, 'Unreadable answer');
      llm.enqueue({ raw: { body: '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel', contentType: 'application/json' } });
      const res = await ask(t, 'openai', 'answer me', false);
      expect(res.statusCode, res.body).toBe(502);
      expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
      const events = await eventsOf(t);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'failed', outputTokens: 100, usageEstimated: true, messageId: null });
      expect(events[0]!.inputTokens).toBeGreaterThan(0);
      const budget = await budgetOf(t);
      expect(budget.spentUsd).toBeCloseTo(events[0]!.costUsd!, 12);
      expect(budget.spentUsd).toBeGreaterThan(0);
      expect(budget.reservedUsd).toBe(0);
      expect(await conversationsOf(t)).toEqual([]);
    });

    it('a JSON answer whose connection breaks mid-body is booked once as failed, not retried into a second call', async () => {
      // This suite's runtime does not retry; this one does, as by default.
      const retrying = await startRuntime(backend, {
        AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
        AGENTIK_ANTHROPIC_BASE_URL: llm.url,
        AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test',
        AGENTIK_OLLAMA_URL: llm.url,
        AGENTIK_PRICING_FILE: path.join(pricingDir, 'pricing.json'),
        AGENTIK_PROVIDER_RETRIES: '2',
      });
      try {
        const t = await makeTenant(retrying.rt, 'Broken answer');
        const body = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }] });
        const calls = llm.chatRequestCount;
        // Only the broken answer is queued: a retry would get the fake's default reply, and succeed unbooked for the first.
        llm.enqueue({ raw: { body, contentType: 'application/json' }, cutAfterChars: 40 });
        const res = await ask(t, 'openai', 'answer me', false, retrying.rt);
        expect(res.statusCode, res.body).toBe(502);
        expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
        expect(llm.chatRequestCount - calls).toBe(1);
        const events = await eventsOf(t, retrying.rt);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ outcome: 'failed', outputTokens: 100, usageEstimated: true, messageId: null });
        expect((await budgetOf(t, retrying.rt)).reservedUsd).toBe(0);
      } finally {
        await retrying.close();
      }
    });

    it('a tool loop whose second call fails books the first call at its reported usage (JSON and SSE)', async () => {
      const t = await makeTenant(rt, 'Tool loop');
      const toolCall: FakeReply = { toolCalls: [{ name: 'calculator', arguments: '{"expression":"6*7"}' }], usage: { input: 40, output: 20 } };
      const firstUsd = (40 * 2.5 + 20 * 10) / 1e6;

      // The follow-up call fails before any byte of a reply: only the first call is booked, as reported.
      llm.enqueue(toolCall, { error: { status: 503 } });
      const json = await ask(t, 'calc', 'What is 6*7?', false);
      expect(json.statusCode, json.body).toBe(502);
      expect((json.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
      let events = await eventsOf(t);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'failed', inputTokens: 40, outputTokens: 20, usageEstimated: false });
      expect(events[0]!.costUsd).toBeCloseTo(firstUsd, 12);
      expect(await budgetOf(t)).toMatchObject({ reservedUsd: 0 });
      expect((await budgetOf(t)).spentUsd).toBeCloseTo(firstUsd, 12);

      // Streaming, and the follow-up breaks off mid-reply: the first call as reported plus the broken one's estimate.
      llm.enqueue(toolCall, { text: 'Six times seven is forty-two, as computed.', midStreamError: { afterTokens: 4 } });
      expectStreamedError(await ask(t, 'calc', 'What is 6*7 again?', true));
      events = await eventsOf(t);
      expect(events).toHaveLength(2);
      const streamed = events.find((e) => e.usageEstimated)!;
      expect(streamed.outcome).toBe('failed');
      expect(streamed.inputTokens).toBeGreaterThan(40);
      expect(streamed.outputTokens).toBeGreaterThan(20);
      expect(streamed.costUsd).toBeGreaterThan(firstUsd);
      const budget = await budgetOf(t);
      expect(budget.reservedUsd).toBe(0);
      expect(budget.spentUsd).toBeCloseTo(firstUsd + streamed.costUsd!, 12);
      expect(await conversationsOf(t)).toEqual([]);
    });

    it('a tool loop whose second call the budget refuses books the first call, and the client gets 402', async () => {
      const t = await makeTenant(rt, 'Tool loop over budget');
      // The first call answers slowly; meanwhile the limit is lowered below what is already reserved.
      llm.enqueue({ toolCalls: [{ name: 'calculator', arguments: '{"expression":"6*7"}' }], usage: { input: 40, output: 20 }, firstByteDelayMs: 300 }, { text: 'never asked' });
      const calls = llm.chatRequestCount;
      const pending = ask(t, 'calc', 'What is 6*7?', false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const put = await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(t.key), payload: { monthlyLimitUsd: 1e-6, hard: true } });
      expect(put.statusCode, put.body).toBe(200);
      const res = await pending;
      expect(llm.chatRequestCount - calls).toBe(1);
      llm.reset();
      expect(res.statusCode, res.body).toBe(402);
      expect((res.json() as { error: { code: string } }).error.code).toBe('BUDGET_EXCEEDED');
      const events = await eventsOf(t);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'failed', inputTokens: 40, outputTokens: 20, usageEstimated: false });
      const budget = await budgetOf(t);
      expect(budget.spentUsd).toBeCloseTo((40 * 2.5 + 20 * 10) / 1e6, 12);
      expect(budget.reservedUsd).toBe(0);
    });

    it('hard budget: 25 concurrent runs that each break off mid-stream are booked and stay within the limit', async () => {
      const limit = 5 * ONE_CALL_BOUND_USD;
      const t = await makeTenant(rt, 'Broken hammer', limit);
      llm.enqueue(...Array.from({ length: 25 }, (): FakeReply => ({ text: LONG_TEXT, midStreamError: { afterTokens: 100 } })));
      const callsBefore = llm.chatRequestCount;
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => ask(t, 'openai', `break off ${i}`, true)));
      const upstream = llm.chatRequestCount - callsBefore;
      llm.reset(); // replies queued for calls the budget refused must not answer later tests
      let broken = 0;
      for (const res of results) {
        if (res.statusCode === 402) {
          expect((res.json() as { error: { code: string } }).error.code).toBe('BUDGET_EXCEEDED');
          continue;
        }
        expectStreamedError(res);
        broken++;
      }
      expect(broken).toBeGreaterThanOrEqual(1);
      expect(upstream).toBe(broken);

      const events = await eventsOf(t);
      // Every call that reached the model and streamed something is booked.
      expect(events).toHaveLength(broken);
      for (const e of events) {
        expect(e).toMatchObject({ outcome: 'failed', usageEstimated: true });
        expect(e.outputTokens).toBeGreaterThan(0);
        expect(e.outputTokens).toBeLessThanOrEqual(100);
      }
      const recorded = events.reduce((sum, e) => sum + (e.costUsd ?? Number.POSITIVE_INFINITY), 0);
      const budget = await budgetOf(t);
      expect(budget.spentUsd).toBeGreaterThan(0);
      expect(budget.spentUsd).toBeCloseTo(recorded, 9);
      expect(budget.reservedUsd).toBe(0);
      // Each run reserved its worst case and is booked within it: never past the limit by more than one call's bound.
      expect(budget.spentUsd).toBeLessThanOrEqual(limit + ONE_CALL_BOUND_USD);
      expect(budget.spentUsd).toBeLessThanOrEqual(limit + 1e-9);

      // Provoking failures is not a way around the limit: broken runs spend it until it refuses.
      let brokenAgain = 0;
      for (let i = 0; i < 25; i++) {
        llm.enqueue({ text: LONG_TEXT, midStreamError: { afterTokens: 100 } });
        const res = await ask(t, 'openai', `again ${i}`, true);
        if (res.statusCode === 402) break;
        expectStreamedError(res);
        brokenAgain++;
      }
      llm.reset();
      expect(brokenAgain).toBeLessThan(25);
      const after = await budgetOf(t);
      expect(after.spentUsd).toBeLessThanOrEqual(limit + 1e-9);
      expect(after.spentUsd).toBeGreaterThan(limit - ONE_CALL_BOUND_USD);
      expect(after.reservedUsd).toBe(0);
      // Spend booked by failed runs crosses the thresholds like any other (audited once each).
      const audit = ((await get(t, '/api/audit?limit=200')).json() as { data: { action: string; details: { thresholdPct: number } }[] }).data;
      const crossed = audit.filter((e) => e.action === 'budget.threshold_crossed').map((e) => e.details.thresholdPct);
      expect(crossed).toEqual(expect.arrayContaining([50, 80]));
      expect(new Set(crossed).size).toBe(crossed.length);
    });

    it('a run that failed before any byte came back books nothing and releases its reservation', async () => {
      // 503 before streaming, retries off.
      const t = await makeTenant(rt, 'Unavailable');
      for (const sse of [false, true]) {
        llm.enqueue({ error: { status: 503 } });
        const res = await ask(t, 'openai', 'anyone?', sse);
        expect(res.statusCode).toBe(502);
        expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
      }
      expect(await eventsOf(t)).toEqual([]);
      expect(await budgetOf(t)).toMatchObject({ spentUsd: 0, reservedUsd: 0 });

      // Connection refused: the provider's port is closed.
      const down = await startRuntime(backend, { AGENTIK_OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
      try {
        const tenant = await makeTenant(down.rt, 'Refused');
        for (const sse of [false, true]) {
          const res = await ask(tenant, 'openai', 'anyone there?', sse, down.rt);
          expect(res.statusCode).toBe(502);
          expect((res.json() as { error: { code: string } }).error.code).toBe('PROVIDER_UNAVAILABLE');
        }
        expect(await eventsOf(tenant, down.rt)).toEqual([]);
        expect(await budgetOf(tenant, down.rt)).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
        expect(await conversationsOf(tenant, down.rt)).toEqual([]);
      } finally {
        await down.close();
      }
    });
  });
}
