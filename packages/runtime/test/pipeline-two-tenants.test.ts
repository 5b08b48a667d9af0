import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

/**
 * Two tenants with the same name and the same agent names talk to their agents; conversations,
 * search, costs and budgets of one must be invisible to the other, and the other tenant's ids
 * must read exactly like ids that never existed.
 */

interface Side {
  key: string;
  agents: Record<string, string>;
  conversations: string[];
}

let llm: FakeLlm;
let rt: TestRuntime;
let a: Side;
let b: Side;

const get = (side: Side, url: string) => rt.app.inject({ method: 'GET', url, headers: bearer(side.key) });
const del = (side: Side, url: string) => rt.app.inject({ method: 'DELETE', url, headers: bearer(side.key) });
const send = (side: Side, agent: string, payload: Record<string, unknown>) =>
  rt.app.inject({ method: 'POST', url: `/api/agents/${side.agents[agent]}/messages`, headers: bearer(side.key), payload });

async function makeSide(): Promise<Side> {
  const t = await rt.createTenant({ name: 'Twins', plan: 'enterprise' });
  const key = await rt.createKey(t.id);
  const side: Side = { key, agents: {}, conversations: [] };
  for (const [name, provider, model] of [
    ['support', 'openai', 'gpt-4o-mini'],
    ['local', 'ollama', 'llama3.2'],
  ] as const) {
    const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name, systemPrompt: `You are ${name}.`, provider, model } });
    expect(res.statusCode, res.body).toBe(201);
    side.agents[name] = (res.json() as { id: string }).id;
  }
  return side;
}

async function talk(side: Side, agent: string, content: string, answer: string, conversationId?: string): Promise<string> {
  // Within the call's bounds (a prompt's byte bound is above 256 tokens), so booked as reported.
  llm.enqueue({ text: answer, usage: { input: 200, output: 100 } });
  const res = await send(side, agent, { content, ...(conversationId ? { conversationId } : {}) });
  expect(res.statusCode, res.body).toBe(200);
  const id = (res.json() as { conversationId: string }).conversationId;
  if (!side.conversations.includes(id)) side.conversations.push(id);
  return id;
}

const convIds = async (side: Side, query = '') => ((await get(side, `/api/conversations${query}`)).json() as { data: { id: string }[] }).data.map((c) => c.id).sort();
const search = async (side: Side, q: string, extra = '') => {
  const res = await get(side, `/api/conversations/search?q=${encodeURIComponent(q)}${extra}`);
  expect(res.statusCode, `${q}: ${res.body}`).toBe(200);
  return (res.json() as { data: { conversationId: string; content: string; agentId: string }[] }).data;
};
const costEvents = async (side: Side) => ((await get(side, '/api/costs/events?limit=200')).json() as { data: { id: string; agentId: string; conversationId: string }[] }).data;
const counts = async (side: Side) => ({
  conversations: (await convIds(side)).length,
  costEvents: (await costEvents(side)).length,
  budget: (await get(side, '/api/budget')).json() as { spentUsd: number },
});

beforeAll(async () => {
  llm = await startFakeLlm();
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OLLAMA_URL: llm.url, AGENTIK_OPENAI_BASE_URL: llm.openAiUrl });
  a = await makeSide();
  b = await makeSide();
  const first = await talk(a, 'support', 'My order zebracorn 1234 is late', 'Sorry about zebracorn 1234.');
  await talk(a, 'support', 'Any news on zebracorn?', 'Zebracorn ships tomorrow.', first);
  await talk(a, 'local', 'Tell me about the Ünïcödé café', 'The café is open.');
  await talk(b, 'support', 'Where is my platypus parcel?', 'The platypus parcel is at the depot.');
});

afterAll(async () => {
  await rt.close();
  await llm.close();
});

describe('two tenants with the same agent names', () => {
  it('lists only the own conversations, with or without an agent filter', async () => {
    expect(await convIds(a)).toEqual([...a.conversations].sort());
    expect(await convIds(b)).toEqual([...b.conversations].sort());
    expect(await convIds(b, `?agentId=${a.agents.support}`)).toEqual([]);
    expect(await convIds(a, `?agentId=${a.agents.support}`)).toHaveLength(1);
  });

  it("answers another tenant's conversation id like one that never existed, for read and delete", async () => {
    const foreign = a.conversations[0]!;
    const never = newId('conversation');
    const readForeign = await get(b, `/api/conversations/${foreign}`);
    const readNever = await get(b, `/api/conversations/${never}`);
    expect(readForeign.statusCode).toBe(404);
    expect(readForeign.json()).toEqual(readNever.json());
    expect(readForeign.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'conversation not found' } });
    const delForeign = await del(b, `/api/conversations/${foreign}`);
    const delNever = await del(b, `/api/conversations/${never}`);
    expect([delForeign.statusCode, delNever.statusCode]).toEqual([404, 404]);
    expect(delForeign.json()).toEqual(delNever.json());
    // Still there, whole, for its owner.
    const mine = await get(a, `/api/conversations/${foreign}`);
    expect(mine.statusCode).toBe(200);
    expect((mine.json() as { messages: unknown[] }).messages).toHaveLength(4);
  });

  it("refuses another tenant's conversationId in a message body, without calling the model or writing anything", async () => {
    const before = { a: await counts(a), b: await counts(b), calls: llm.chatRequestCount };
    for (const agent of ['support', 'local']) {
      const res = await send(b, agent, { content: 'hijack', conversationId: a.conversations[0] });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'conversation not found' } });
    }
    expect(llm.chatRequestCount).toBe(before.calls);
    expect(await counts(a)).toEqual(before.a);
    expect(await counts(b)).toEqual(before.b);
    expect(((await get(a, `/api/conversations/${a.conversations[0]}`)).json() as { messages: { content: string }[] }).messages.map((m) => m.content)).not.toContain('hijack');
    expect(await search(b, 'hijack')).toEqual([]);
  });

  it('searches only the own messages', async () => {
    const hitsA = await search(a, 'zebracorn');
    expect(hitsA.length).toBeGreaterThanOrEqual(3);
    expect(hitsA.every((h) => a.conversations.includes(h.conversationId))).toBe(true);
    expect(await search(b, 'zebracorn')).toEqual([]);
    expect(await search(b, 'zebracorn', `&agentId=${a.agents.support}`)).toEqual([]);
    expect((await search(b, 'platypus')).map((h) => h.conversationId)).toEqual([b.conversations[0], b.conversations[0]]);
    expect(await search(a, 'platypus')).toEqual([]);
    expect((await search(a, 'café')).length).toBe(2);
  });

  it('never fails on FTS syntax or odd unicode, and never returns the other tenant', async () => {
    const hostile = [
      '"',
      '""',
      '"zebracorn',
      '*',
      'zebra*',
      'NEAR(',
      'NEAR(zebracorn platypus, 2)',
      'OR',
      'zebracorn OR platypus',
      'AND NOT',
      '-',
      '-zebracorn',
      'platypus -',
      '^zebracorn',
      'content:platypus',
      '{content}: platypus',
      '(',
      ')))',
      "'; DROP TABLE messages; --",
      '\\',
      '🦄',
      'Ünïcödé',
      'e\u0301',
      '\u0000',
      '\u200b',
      'ｚｅｂｒａ',
      'x'.repeat(500),
      'a b c d e f g h i j k',
    ];
    for (const q of hostile) {
      const res = await get(b, `/api/conversations/search?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, `${JSON.stringify(q)} -> ${res.body}`).toBeLessThan(500);
      if (res.statusCode !== 200) {
        expect((res.json() as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
        continue;
      }
      for (const hit of (res.json() as { data: { conversationId: string }[] }).data) expect(b.conversations).toContain(hit.conversationId);
    }
    expect(await search(b, 'zebracorn OR platypus')).toEqual([]);
    expect((await search(a, '"zebracorn')).length).toBeGreaterThan(0);
  });

  it('refuses an empty or oversized query with VALIDATION_FAILED', async () => {
    for (const q of ['', 'x'.repeat(501)]) {
      const res = await get(a, `/api/conversations/search?q=${q}`);
      expect(res.statusCode).toBe(400);
      expect((res.json() as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('keeps cost events and summaries apart', async () => {
    const eventsA = await costEvents(a);
    const eventsB = await costEvents(b);
    expect(eventsA).toHaveLength(3);
    expect(eventsB).toHaveLength(1);
    expect(eventsA.every((e) => a.conversations.includes(e.conversationId))).toBe(true);
    expect(eventsB.map((e) => e.agentId)).toEqual([b.agents.support]);
    type Summary = { totalUsd: number; calls: number; inputTokens: number; groups: { key: string; calls: number; usd: number }[] };
    const byAgentA = (await get(a, '/api/costs/summary?groupBy=agent')).json() as Summary;
    const byAgentB = (await get(b, '/api/costs/summary?groupBy=agent')).json() as Summary;
    expect(byAgentA.calls).toBe(3);
    expect(byAgentA.groups.map((g) => g.key).sort()).toEqual([a.agents.support, a.agents.local].sort());
    expect(byAgentB).toMatchObject({ calls: 1, inputTokens: 200, groups: [{ key: b.agents.support, calls: 1 }] });
    // gpt-4o-mini: 0.15 $/MTok in, 0.6 $/MTok out; the local model is free.
    expect(byAgentB.totalUsd).toBeCloseTo(0.00009, 12);
    expect(byAgentA.totalUsd).toBeCloseTo(0.00018, 12);
    const byModel = (await get(b, '/api/costs/summary?groupBy=model')).json() as Summary;
    expect(byModel.groups.map((g) => g.key)).toEqual(['openai/gpt-4o-mini']);
  });

  it('keeps budgets apart: settings and spend', async () => {
    const put = await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(a.key), payload: { monthlyLimitUsd: 5, hard: true, thresholds: [90] } });
    expect(put.statusCode, put.body).toBe(200);
    const budgetA = (await get(a, '/api/budget')).json() as Record<string, unknown>;
    const budgetB = (await get(b, '/api/budget')).json() as Record<string, unknown>;
    expect(budgetA).toMatchObject({ monthlyLimitUsd: 5, thresholds: [90], reservedUsd: 0 });
    expect(budgetB).toMatchObject({ monthlyLimitUsd: null, thresholds: [50, 80, 100], reservedUsd: 0, remainingUsd: null });
    expect(budgetA.spentUsd).toBeCloseTo(0.00018, 12);
    expect(budgetB.spentUsd).toBeCloseTo(0.00009, 12);
    const auditB = (await get(b, '/api/audit?limit=200')).json() as { data: { action: string }[] };
    expect(auditB.data.map((e) => e.action)).not.toContain('budget.updated');
  });

  it('deletes a conversation in one tenant only, and its messages leave the search', async () => {
    const [victim] = a.conversations;
    expect((await del(a, `/api/conversations/${victim}`)).statusCode).toBe(204);
    expect((await get(a, `/api/conversations/${victim}`)).statusCode).toBe(404);
    expect(await search(a, 'zebracorn')).toEqual([]);
    expect(await convIds(b)).toEqual([...b.conversations].sort());
    expect((await search(b, 'platypus')).length).toBe(2);
    // The spend it caused stays on the books.
    expect((await costEvents(a)).length).toBe(3);
  });
});
