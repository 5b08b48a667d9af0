import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRateLimiter } from '../src/limits/rate-limiter.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

/**
 * Hard and soft budgets, threshold notifications (audit + operator webhook) and the per-plan
 * request rate, through the real app and a fake LLM that speaks the OpenAI wire protocol.
 * gpt-4o costs 2.5 $/MTok in and 10 $/MTok out; every reply here reports 40 tokens in and 100
 * out (the agent's maxTokens), so one call costs 0.0011 $ and reserves slightly more.
 */

const CALL_USD = (40 * 2.5 + 100 * 10) / 1e6;

let llm: FakeLlm;
let rt: TestRuntime;
let hook: Server;
let hookUrl: string;
const hookBodies: Record<string, unknown>[] = [];
let hookStatus = 204;

interface Tenant {
  id: string;
  key: string;
  agentId: string;
}

async function makeTenant(name: string, plan: string, provider = 'openai', model = 'gpt-4o'): Promise<Tenant> {
  const t = await rt.createTenant({ name, plan });
  const key = await rt.createKey(t.id);
  const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'bot', systemPrompt: 'Be brief.', provider, model, maxTokens: 100 } });
  expect(res.statusCode, res.body).toBe(201);
  return { id: t.id, key, agentId: (res.json() as { id: string }).id };
}

const ask = (t: Tenant, content = 'q', headers: Record<string, string> = {}) =>
  rt.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key, headers), payload: { content } });
const putBudget = (t: Tenant, payload: Record<string, unknown>) => rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(t.key), payload });
const budgetOf = async (t: Tenant) =>
  (await rt.app.inject({ method: 'GET', url: '/api/budget', headers: bearer(t.key) })).json() as { monthlyLimitUsd: number | null; spentUsd: number; reservedUsd: number; remainingUsd: number | null };
const eventsOf = async (t: Tenant) =>
  ((await rt.app.inject({ method: 'GET', url: '/api/costs/events?limit=200', headers: bearer(t.key) })).json() as {
    data: { costUsd: number | null; outcome: string; outputTokens: number | null; usageAnomaly: string | null }[];
  }).data;
const auditOf = async (t: Tenant) =>
  ((await rt.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: bearer(t.key) })).json() as { data: { action: string; details: Record<string, unknown> }[] }).data;

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      hookBodies.push({ ...(JSON.parse(body) as Record<string, unknown>), contentType: req.headers['content-type'] });
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/budget-hook`;
  llm = await startFakeLlm({ defaultReply: { text: 'ok', usage: { input: 40, output: 100 }, firstByteDelayMs: 5 } });
  // The rate limiter's clock is frozen mid-minute, so the 60-per-minute test cannot straddle a minute.
  const frozen = Date.parse('2026-01-01T00:00:30Z');
  rt = await startTestRuntime(
    { AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OLLAMA_URL: llm.url, AGENTIK_OPENAI_BASE_URL: llm.openAiUrl, AGENTIK_BUDGET_WEBHOOK_URL: hookUrl },
    { rateLimiter: new LocalRateLimiter(() => frozen) },
  );
});

afterAll(async () => {
  await rt.close();
  await llm.close();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
});

describe('hard budget', () => {
  it('50 concurrent requests never push recorded spend past the limit', async () => {
    const t = await makeTenant('Concurrent', 'enterprise');
    const limit = 0.0111; // ten calls' worth of real cost, fewer of worst-case reservations
    expect((await putBudget(t, { monthlyLimitUsd: limit, hard: true })).statusCode).toBe(200);
    const callsBefore = llm.chatRequestCount;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(t, `question ${i}`)));
    const ok = results.filter((r) => r.statusCode === 200);
    const refused = results.filter((r) => r.statusCode === 402);
    expect(ok.length + refused.length).toBe(50);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(10);
    expect(refused.length).toBeGreaterThanOrEqual(40);
    for (const r of refused) expect(r.json()).toEqual({ error: { code: 'BUDGET_EXCEEDED', message: expect.any(String) } });
    // A refused call never reached the model.
    expect(llm.chatRequestCount - callsBefore).toBe(ok.length);
    const events = await eventsOf(t);
    expect(events).toHaveLength(ok.length);
    const recorded = events.reduce((s, e) => s + (e.costUsd ?? Number.POSITIVE_INFINITY), 0);
    expect(recorded).toBeCloseTo(ok.length * CALL_USD, 9);
    expect(recorded).toBeLessThanOrEqual(limit + 1e-9);
    const budget = await budgetOf(t);
    expect(budget.spentUsd).toBeCloseTo(recorded, 9);
    expect(budget.spentUsd).toBeLessThanOrEqual(limit + 1e-9);
    expect(budget.reservedUsd).toBe(0);
  });

  it('a tenant over its limit gets 402 BUDGET_EXCEEDED on every surface and nothing goes upstream', async () => {
    const t = await makeTenant('Over', 'enterprise');
    expect((await ask(t)).statusCode).toBe(200);
    const spent = (await budgetOf(t)).spentUsd;
    expect(spent).toBeCloseTo(CALL_USD, 9);
    expect((await putBudget(t, { monthlyLimitUsd: spent, hard: true })).statusCode).toBe(200);
    const calls = llm.chatRequestCount;
    const conversationsBefore = (await rt.app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(t.key) })).json() as { data: unknown[] };

    const json = await ask(t, 'more please');
    expect(json.statusCode).toBe(402);
    const refusal = (json.json() as { error: { code: string; message: string } }).error;
    expect(refusal.code).toBe('BUDGET_EXCEEDED');
    // It says what the refusal counted: the worst case of this call against what is left.
    expect(refusal.message).toMatch(/^the hard monthly budget does not cover this call: up to \$0\.\d+ for this call at 100 max tokens; \$0\.00 left$/);
    const sse = await ask(t, 'more please', { accept: 'text/event-stream' });
    expect(sse.statusCode).toBe(402);
    expect(sse.headers['content-type']).toContain('application/json');
    const openai = await rt.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: bearer(t.key),
      payload: { model: 'bot', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(openai.statusCode).toBe(402);

    expect(llm.chatRequestCount).toBe(calls);
    expect((await rt.app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(t.key) })).json()).toEqual(conversationsBefore);
    expect(await eventsOf(t)).toHaveLength(1);
    expect(await budgetOf(t)).toMatchObject({ reservedUsd: 0, remainingUsd: 0 });

    // Raising the limit lets it talk again; removing it too.
    expect((await putBudget(t, { monthlyLimitUsd: 1, hard: true })).statusCode).toBe(200);
    expect((await ask(t)).statusCode).toBe(200);
    expect((await putBudget(t, { monthlyLimitUsd: null })).statusCode).toBe(200);
    expect((await ask(t)).statusCode).toBe(200);
    expect(llm.chatRequestCount).toBe(calls + 2);
  });

  it('a limit of zero refuses even a free local model', async () => {
    const t = await makeTenant('Zero', 'enterprise', 'ollama', 'llama3.2');
    expect((await putBudget(t, { monthlyLimitUsd: 0, hard: true })).statusCode).toBe(200);
    const calls = llm.chatRequestCount;
    expect((await ask(t)).statusCode).toBe(402);
    expect(llm.chatRequestCount).toBe(calls);
  });
});

describe('hard budget: every call booked, none at a false $0', () => {
  /** 25 calls at once; every answered call is booked, and the spend stays within the limit. */
  async function hammer(t: Tenant, limit: number, content = (i: number) => `question ${i}`) {
    expect((await putBudget(t, { monthlyLimitUsd: limit, hard: true })).statusCode).toBe(200);
    const callsBefore = llm.chatRequestCount;
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => ask(t, content(i))));
    const upstream = llm.chatRequestCount - callsBefore;
    llm.reset(); // replies queued for calls the budget refused must not answer later tests
    const ok = results.filter((r) => r.statusCode === 200);
    for (const r of results) expect([200, 402], r.body).toContain(r.statusCode);
    expect(upstream).toBe(ok.length);
    const events = await eventsOf(t);
    expect(events).toHaveLength(ok.length);
    const budget = await budgetOf(t);
    const recorded = events.reduce((sum, e) => sum + (e.costUsd ?? Number.POSITIVE_INFINITY), 0);
    expect(budget.spentUsd).toBeCloseTo(recorded, 9);
    // Reservations hold the worst case of each call, so spend never passes a hard limit at all.
    expect(budget.spentUsd).toBeLessThanOrEqual(limit + 1e-9);
    expect(budget.reservedUsd).toBe(0);
    return { ok, refused: results.length - ok.length, events, budget };
  }

  it('NUL: content with a NUL never reaches the model; replies with NUL are booked', async () => {
    const t = await makeTenant('Nul budget', 'enterprise');
    const refused = await Promise.all(
      Array.from({ length: 25 }, () =>
        rt.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key, { 'content-type': 'application/json' }), payload: '{"content":"free\\u0000lunch"}' }),
      ),
    );
    for (const r of refused) expect((r.json() as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    expect(await budgetOf(t)).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
    llm.enqueue(...Array.from({ length: 25 }, () => ({ text: 'nul\u0000reply', usage: { input: 40, output: 100 } })));
    const run = await hammer(t, 5 * CALL_USD);
    expect(run.ok.length).toBeGreaterThanOrEqual(1);
    expect(run.refused).toBeGreaterThanOrEqual(20);
    for (const e of run.events) expect(e.costUsd).toBeCloseTo(CALL_USD, 9);
  });

  it('free endpoint: openai-compatible on the operator\'s endpoint is priced unless the operator declares it free', async () => {
    const t = await makeTenant('Paid endpoint', 'enterprise', 'openai-compatible', 'gpt-4o');
    const run = await hammer(t, 10 * CALL_USD);
    expect(run.ok.length).toBeGreaterThanOrEqual(1);
    expect(run.ok.length).toBeLessThanOrEqual(10);
    for (const e of run.events) expect(e.costUsd).toBeCloseTo(CALL_USD, 9);

    // The same endpoint, declared free by its operator: calls cost 0 and only a reached limit stops them.
    const free = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OPENAI_BASE_URL: llm.openAiUrl, AGENTIK_OPENAI_FREE: 'true' });
    try {
      const tenant = await free.createTenant({ name: 'Free endpoint', plan: 'enterprise' });
      const key = await free.createKey(tenant.id);
      const agent = await free.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'bot', systemPrompt: 'Be brief.', provider: 'openai-compatible', model: 'gpt-4o', maxTokens: 100 } });
      expect(agent.statusCode, agent.body).toBe(201);
      const agentId = (agent.json() as { id: string }).id;
      await free.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(key), payload: { monthlyLimitUsd: CALL_USD, hard: true } });
      for (let i = 0; i < 3; i++) {
        const res = await free.app.inject({ method: 'POST', url: `/api/agents/${agentId}/messages`, headers: bearer(key), payload: { content: 'hi' } });
        expect(res.statusCode, res.body).toBe(200);
        expect((res.json() as { costUsd: number }).costUsd).toBe(0);
      }
      expect((await free.app.inject({ method: 'GET', url: '/api/budget', headers: bearer(key) })).json()).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
    } finally {
      await free.close();
    }
  });

  it('lying usage: a reply claiming 5,000,000 tokens for maxTokens 100 is booked at the bound and flagged', async () => {
    const t = await makeTenant('Liar', 'enterprise');
    llm.enqueue(...Array.from({ length: 25 }, () => ({ text: 'ok', usage: { input: 40, output: 5_000_000 } })));
    const run = await hammer(t, 0.05);
    expect(run.ok.length).toBeGreaterThanOrEqual(1);
    for (const e of run.events) {
      expect(e).toMatchObject({ outputTokens: 100, usageAnomaly: 'over_bound' });
      expect(e.costUsd).toBeCloseTo(CALL_USD, 9);
    }
  });

  it('unknown model: an unlisted OpenAI model reserves and books at the most expensive listed price', async () => {
    const t = await makeTenant('Unknown model', 'enterprise', 'openai', 'gpt-9-preview-unlisted');
    const run = await hammer(t, 0.5);
    // o1-pro's 150/600 $ per MTok: 40 tokens in and 100 out cost 0.066 $ (gpt-4o's would be 0.0011 $).
    const atMax = (40 * 150 + 100 * 600) / 1e6;
    expect(run.ok.length).toBeGreaterThanOrEqual(1);
    expect(run.ok.length).toBeLessThanOrEqual(Math.floor(0.5 / atMax));
    for (const e of run.events) expect(e.costUsd).toBeCloseTo(atMax, 9);
  });
});

describe('thresholds and soft limits', () => {
  it('50/80/100% are audited once each and POSTed to the operator webhook; a soft limit only notifies', async () => {
    const t = await makeTenant('Soft', 'enterprise');
    const limit = 3 * CALL_USD;
    const put = await putBudget(t, { monthlyLimitUsd: limit, hard: false, thresholds: [100, 50, 80, 50] });
    expect(put.json()).toMatchObject({ hard: false, thresholds: [50, 80, 100] });
    hookBodies.length = 0;
    const crossedAfter: number[][] = [];
    for (let i = 0; i < 5; i++) {
      expect((await ask(t)).statusCode).toBe(200); // soft: never refused, even past 100 %
      await rt.notificationsIdle();
      crossedAfter.push(hookBodies.map((b) => b.thresholdPct as number));
    }
    // 33 %, 67 % (50), 100 % (80, 100), 133 %, 167 %: nothing is sent twice.
    expect(crossedAfter).toEqual([[], [50], [50, 80, 100], [50, 80, 100], [50, 80, 100]]);
    expect(hookBodies[0]).toMatchObject({
      event: 'budget.threshold_crossed',
      tenantId: t.id,
      thresholdPct: 50,
      limitUsd: limit,
      period: expect.stringMatching(/^\d{4}-\d{2}$/),
      contentType: 'application/json',
    });
    expect(hookBodies[2]!.spentUsd).toBeCloseTo(limit, 9);
    const audited = (await auditOf(t)).filter((e) => e.action === 'budget.threshold_crossed').map((e) => e.details.thresholdPct);
    expect(audited).toEqual([50, 80, 100]);
    expect((await budgetOf(t)).spentUsd).toBeCloseTo(5 * CALL_USD, 9);
  });

  it('a webhook that is down never fails the request', async () => {
    const t = await makeTenant('Hookless', 'enterprise');
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    try {
      expect((await putBudget(t, { monthlyLimitUsd: CALL_USD, hard: false, thresholds: [100] })).statusCode).toBe(200);
      expect((await ask(t)).statusCode).toBe(200);
      await rt.notificationsIdle();
      expect((await auditOf(t)).filter((e) => e.action === 'budget.threshold_crossed')).toHaveLength(1);
      expect(rt.logs.some((l) => l.includes('budget webhook unreachable'))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => hook.listen(Number(new URL(hookUrl).port), '127.0.0.1', resolve));
    }
  });

  it('a webhook that refuses the notice is logged, and the threshold is still audited once', async () => {
    const t = await makeTenant('Refused', 'enterprise');
    hookStatus = 500;
    try {
      expect((await putBudget(t, { monthlyLimitUsd: CALL_USD, hard: false, thresholds: [100] })).statusCode).toBe(200);
      expect((await ask(t)).statusCode).toBe(200);
      await rt.notificationsIdle();
      expect(rt.logs.some((l) => l.includes('budget webhook refused the notice') && l.includes('"status":500'))).toBe(true);
      expect((await auditOf(t)).filter((e) => e.action === 'budget.threshold_crossed')).toHaveLength(1);
    } finally {
      hookStatus = 204;
    }
  });

  it('only admins and owners may change the budget; viewers may read it', async () => {
    const t = await makeTenant('Roles', 'enterprise');
    for (const role of ['viewer', 'member'] as const) {
      const key = await rt.createKey(t.id, role);
      const put = await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(key), payload: { monthlyLimitUsd: 1 } });
      expect(put.statusCode).toBe(403);
      expect((put.json() as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      expect((await rt.app.inject({ method: 'GET', url: '/api/budget', headers: bearer(key) })).statusCode).toBe(200);
    }
    const admin = await rt.createKey(t.id, 'admin');
    expect((await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(admin), payload: { monthlyLimitUsd: 1 } })).statusCode).toBe(200);
    const bad = await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(admin), payload: { monthlyLimitUsd: -1 } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('rate limit by plan', () => {
  it('a free-plan tenant gets 429 RATE_LIMITED with Retry-After on its 61st call in a minute', async () => {
    const free = await makeTenant('Free', 'free', 'ollama', 'llama3.2');
    const other = await makeTenant('Other', 'free', 'ollama', 'llama3.2');
    for (let i = 0; i < 60; i++) {
      const res = await ask(free, `call ${i}`);
      expect(res.statusCode, `call ${i}: ${res.body}`).toBe(200);
    }
    const calls = llm.chatRequestCount;
    const limited = await ask(free, 'call 61');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: 'the free plan allows 60 requests per minute' } });
    expect(limited.headers['retry-after']).toBe('30');
    expect(llm.chatRequestCount).toBe(calls);
    // Another tenant on the same plan is not affected.
    expect((await ask(other)).statusCode).toBe(200);
  });
});
