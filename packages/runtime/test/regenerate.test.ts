import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, createAgent, parseSseBody, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

/**
 * `POST /api/conversations/:id/regenerate`: the last user message answered again, its new reply in
 * place of the old one, through the real app, both wire formats, and a fake LLM (Anthropic's
 * protocol: a priced model, so every call has a cost event).
 */

let llm: FakeLlm;
let rt: TestRuntime;

interface Tenant {
  id: string;
  key: string;
  agentId: string;
}

interface StoredTurn {
  role: string;
  content: string;
  costUsd: number | null;
}

beforeAll(async () => {
  llm = await startFakeLlm({ instant: true });
  rt = await startTestRuntime({ AGENTIK_ANTHROPIC_BASE_URL: llm.url, AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test', AGENTIK_PROVIDER_RETRIES: '0' });
});

afterAll(async () => {
  await rt?.close();
  await llm?.close();
});

async function tenant(name: string): Promise<Tenant> {
  const t = await rt.createTenant({ name, plan: 'enterprise' });
  const key = await rt.createKey(t.id);
  return { id: t.id, key, agentId: await createAgent(rt, key, { provider: 'anthropic', model: 'claude-sonnet-4-5' }) };
}

async function send(t: Tenant, content: string, reply: string, conversationId?: string): Promise<string> {
  llm.enqueue({ text: reply });
  const res = await rt.app.inject({
    method: 'POST',
    url: `/api/agents/${t.agentId}/messages`,
    headers: bearer(t.key),
    payload: { content, ...(conversationId ? { conversationId } : {}) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { conversationId: string }).conversationId;
}

const regenerate = (key: string, id: string, options: { payload?: unknown; headers?: Record<string, string> } = {}) =>
  rt.app.inject({
    method: 'POST',
    url: `/api/conversations/${id}/regenerate`,
    headers: bearer(key, options.headers),
    ...(options.payload === undefined ? {} : { payload: options.payload as object }),
  });

async function turns(t: Tenant, id: string): Promise<StoredTurn[]> {
  const res = await rt.app.inject({ method: 'GET', url: `/api/conversations/${id}`, headers: bearer(t.key) });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { messages: StoredTurn[] }).messages.map(({ role, content, costUsd }) => ({ role, content, costUsd }));
}

async function costEvents(t: Tenant, conversationId: string): Promise<{ messageId: string | null; outcome: string }[]> {
  const res = await rt.app.inject({ method: 'GET', url: '/api/costs/events?limit=200', headers: bearer(t.key) });
  return (res.json() as { data: { conversationId: string; messageId: string | null; outcome: string }[] }).data.filter((e) => e.conversationId === conversationId);
}

/** The turns the model was given in the last request (Anthropic's body: system apart). */
function lastPrompt(): { role: string; content: unknown }[] {
  return (llm.lastRequest!.body as { messages: { role: string; content: unknown }[] }).messages;
}

describe('POST /api/conversations/:id/regenerate', () => {
  it('answers the last user message again as JSON and replaces the reply; the old call stays booked', async () => {
    const t = await tenant('Regen JSON');
    const id = await send(t, 'first question', 'first answer');
    await send(t, 'second question', 'old answer', id);

    llm.enqueue({ text: 'new answer' });
    const res = await regenerate(t.key, id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { conversationId: string; message: { id: string; role: string; content: string }; costUsd: number };
    expect(body).toMatchObject({ conversationId: id, message: { role: 'assistant', content: 'new answer' } });
    expect(body.costUsd).toBeGreaterThan(0);
    // The model saw the turns up to the last user message, not the reply it replaces.
    expect(lastPrompt().map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(lastPrompt())).toContain('second question');
    expect(JSON.stringify(lastPrompt())).not.toContain('old answer');

    const stored = await turns(t, id);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ['user', 'first question'],
      ['assistant', 'first answer'],
      ['user', 'second question'],
      ['assistant', 'new answer'],
    ]);
    expect(stored[3]!.costUsd).toBe(body.costUsd);
    // Three calls were made and paid for: each has its cost event; the new one names the new reply.
    const events = await costEvents(t, id);
    expect(events).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ messageId: body.message.id, outcome: 'ok' });

    // `{}` is the same as no body.
    llm.enqueue({ text: 'newest answer' });
    const again = await regenerate(t.key, id, { payload: {} });
    expect(again.statusCode, again.body).toBe(200);
    expect((await turns(t, id)).map((m) => m.content)).toEqual(['first question', 'first answer', 'second question', 'newest answer']);
  });

  it('streams the new reply as SSE (delta events, then done) and replaces the old one', async () => {
    const t = await tenant('Regen SSE');
    const id = await send(t, 'only question', 'old answer');
    llm.enqueue({ text: 'a streamed new answer' });
    const res = await regenerate(t.key, id, { headers: { accept: 'text/event-stream' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const events = parseSseBody(res.body);
    const deltas = events.slice(0, -1);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((e) => e.event === 'delta')).toBe(true);
    expect(deltas.map((e) => (e.data as { text: string }).text).join('')).toBe('a streamed new answer');
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { conversationId: id, message: { role: 'assistant', content: 'a streamed new answer' } } });
    expect((await turns(t, id)).map((m) => [m.role, m.content])).toEqual([
      ['user', 'only question'],
      ['assistant', 'a streamed new answer'],
    ]);
  });

  it('leaves the old reply in place when the regenerate fails: provider down, stream broken off, budget refused', async () => {
    const t = await tenant('Regen fails');
    const id = await send(t, 'a question', 'the answer that stays');
    const kept = [
      ['user', 'a question'],
      ['assistant', 'the answer that stays'],
    ];

    llm.enqueue({ error: { status: 503 } });
    const down = await regenerate(t.key, id);
    expect(down.statusCode).toBe(502);
    expect(down.json()).toMatchObject({ error: { code: 'PROVIDER_UNAVAILABLE' } });
    expect((await turns(t, id)).map((m) => [m.role, m.content])).toEqual(kept);

    // Output came, then the stream broke: the call is booked as failed, the reply is not replaced.
    llm.enqueue({ text: 'half of a new', midStreamError: { afterTokens: 2 } });
    const broken = parseSseBody((await regenerate(t.key, id, { headers: { accept: 'text/event-stream' } })).body);
    expect(broken.at(-1)).toMatchObject({ event: 'error', data: { error: { code: 'PROVIDER_UNAVAILABLE' } } });
    expect((await turns(t, id)).map((m) => [m.role, m.content])).toEqual(kept);
    expect((await costEvents(t, id)).map((e) => e.outcome)).toEqual(['ok', 'failed']);

    const spent = (await rt.app.inject({ method: 'GET', url: '/api/budget', headers: bearer(t.key) })).json() as { spentUsd: number };
    const capped = await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(t.key), payload: { monthlyLimitUsd: spent.spentUsd, hard: true } });
    expect(capped.statusCode, capped.body).toBe(200);
    const calls = llm.chatRequestCount;
    const refused = await regenerate(t.key, id);
    expect(refused.statusCode).toBe(402);
    expect(refused.json()).toMatchObject({ error: { code: 'BUDGET_EXCEEDED' } });
    expect(llm.chatRequestCount).toBe(calls);
    expect((await turns(t, id)).map((m) => [m.role, m.content])).toEqual(kept);
  });

  it("answers 404 for an unknown conversation and another tenant's, 409 for one without a user message, 403 for a viewer", async () => {
    const a = await tenant('Regen A');
    const b = await tenant('Regen B');
    const ofB = await send(b, 'B private question', 'B answer');
    for (const id of [ofB, 'cv_never']) {
      const res = await regenerate(a.key, id);
      expect(res.statusCode, id).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    expect((await turns(b, ofB)).map((m) => m.content)).toEqual(['B private question', 'B answer']);

    // A conversation with no user message (the API never makes one; the store can hold one).
    const empty = newId('conversation');
    const lease = await rt.pool.acquire(a.id);
    try {
      await lease.store.conversations.create({ id: empty, agentId: a.agentId, userId: null, source: 'api', createdAt: Date.now(), updatedAt: Date.now() });
    } finally {
      lease.release();
    }
    const calls = llm.chatRequestCount;
    const conflict = await regenerate(a.key, empty);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ error: { code: 'CONFLICT', message: 'conversation: has no user message to answer again' } });
    expect(llm.chatRequestCount).toBe(calls);

    const ofA = await send(a, 'A question', 'A answer');
    const viewer = await rt.createKey(a.id, 'viewer');
    const denied = await regenerate(viewer, ofA);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await turns(a, ofA)).map((m) => m.content)).toEqual(['A question', 'A answer']);
  });

  it('refuses a body with fields, or one that is not an object, with VALIDATION_FAILED', async () => {
    const t = await tenant('Regen body');
    const id = await send(t, 'question', 'answer');
    const calls = llm.chatRequestCount;
    for (const payload of [{ content: 'other' }, { conversationId: id }, [], 'text', 42]) {
      const res = await rt.app.inject({
        method: 'POST',
        url: `/api/conversations/${id}/regenerate`,
        headers: bearer(t.key, { 'content-type': 'application/json' }),
        payload: JSON.stringify(payload),
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    expect(llm.chatRequestCount).toBe(calls);
    expect((await turns(t, id)).map((m) => m.content)).toEqual(['question', 'answer']);
  });
});
