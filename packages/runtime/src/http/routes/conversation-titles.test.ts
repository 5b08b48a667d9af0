import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';
import { titleOf } from './conversation-titles.js';

let llm: FakeLlm;
let rt: TestRuntime;

beforeAll(async () => {
  llm = await startFakeLlm({ instant: true });
  rt = await startTestRuntime({ AGENTIK_OLLAMA_URL: llm.url });
});

afterAll(async () => {
  await rt?.close();
  await llm?.close();
});

async function tenantWithConversation(slug: string, first: string) {
  const t = await rt.createTenant({ name: slug, slug });
  const [key, member] = [await rt.createKey(t.id, 'viewer'), await rt.createKey(t.id, 'member')];
  const agent = (await rt.app.inject({ method: 'POST', url: '/api/agents', headers: rt.operator(t.id), payload: { name: 'bot', systemPrompt: '', provider: 'ollama', model: 'llama3.2' } })).json() as { id: string };
  const sent = await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: rt.operator(t.id), payload: { content: first } });
  expect(sent.statusCode, sent.body).toBe(200);
  const conversationId = (sent.json() as { conversationId: string }).conversationId;
  await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: rt.operator(t.id), payload: { content: 'a second turn', conversationId } });
  return { key, viewer: key, member, operator: rt.operator(t.id), conversationId };
}

describe('GET /api/conversations/titles', () => {
  it("titles each of the tenant's conversations by its first message, and leaves out another tenant's", async () => {
    const a = await tenantWithConversation('titles-a', 'Where is   my\norder #42?');
    const b = await tenantWithConversation('titles-b', 'B private question');
    const res = await rt.app.inject({ method: 'GET', url: `/api/conversations/titles?ids=${a.conversationId},${b.conversationId},cv_never`, headers: bearer(a.key) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ data: [{ id: a.conversationId, title: 'Where is my order #42?' }] });
  });

  it('refuses a missing or oversized id list with VALIDATION_FAILED', async () => {
    const { key } = await tenantWithConversation('titles-c', 'hello');
    for (const ids of ['', Array.from({ length: 101 }, (_, i) => `cv_${i}`).join(',')]) {
      const res = await rt.app.inject({ method: 'GET', url: `/api/conversations/titles?ids=${ids}`, headers: bearer(key) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('cuts a long first message to 80 characters on one line', () => {
    expect(titleOf('a'.repeat(200))).toHaveLength(80);
    expect(titleOf('a'.repeat(200)).endsWith('…')).toBe(true);
    expect(titleOf(' two\n\nlines ')).toBe('two lines');
  });
});

const rename = (key: string, id: string, payload: unknown) =>
  rt.app.inject({ method: 'PATCH', url: `/api/conversations/${id}`, headers: bearer(key), payload: payload as object });

describe('PATCH /api/conversations/:id', () => {
  it('stores a trimmed title that the list and the read return, audits it, and null resets it', async () => {
    const { member, operator, conversationId: id } = await tenantWithConversation('rename-a', 'Where is my order?');
    const before = (await rt.app.inject({ method: 'GET', url: `/api/conversations/${id}`, headers: bearer(member) })).json() as { title: unknown };
    expect(before.title).toBeNull();

    const res = await rename(member, id, { title: '  Order 42  ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, title: 'Order 42' });
    const list = (await rt.app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(member) })).json() as { data: { id: string; title: string | null }[] };
    expect(list.data.find((c) => c.id === id)?.title).toBe('Order 42');
    const got = (await rt.app.inject({ method: 'GET', url: `/api/conversations/${id}`, headers: bearer(member) })).json() as { title: string; messages: unknown[] };
    expect(got.title).toBe('Order 42');
    expect(got.messages).toHaveLength(4);
    // The titles route stays the first message's: what a reset goes back to.
    const titles = await rt.app.inject({ method: 'GET', url: `/api/conversations/titles?ids=${id}`, headers: bearer(member) });
    expect(titles.json()).toEqual({ data: [{ id, title: 'Where is my order?' }] });
    const audit = (await rt.app.inject({ method: 'GET', url: '/api/audit', headers: operator })).json() as { data: { action: string; target: string }[] };
    expect(audit.data.filter((e) => e.action === 'conversation.renamed').map((e) => e.target)).toEqual([`conversation:${id}`]);

    const reset = await rename(member, id, { title: null });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ id, title: null });
    const after = (await rt.app.inject({ method: 'GET', url: `/api/conversations/${id}`, headers: bearer(member) })).json() as { title: unknown };
    expect(after.title).toBeNull();
  });

  it('refuses bad bodies with VALIDATION_FAILED', async () => {
    const { member, conversationId: id } = await tenantWithConversation('rename-b', 'hello');
    for (const payload of [{}, { title: '' }, { title: '   ' }, { title: 'x'.repeat(201) }, { title: 42 }, { title: 'ok', extra: 1 }]) {
      const res = await rename(member, id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    expect((await rename(member, id, { title: ` ${'y'.repeat(200)} ` })).statusCode).toBe(200);
  });

  it("answers 404 for another tenant's conversation and an unknown id, and 403 for a viewer", async () => {
    const a = await tenantWithConversation('rename-c', 'hello');
    const b = await tenantWithConversation('rename-d', 'hello');
    for (const id of [b.conversationId, 'cv_never']) {
      const res = await rename(a.member, id, { title: 'mine now' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
    const denied = await rename(a.viewer, a.conversationId, { title: 'viewer' });
    expect(denied.statusCode).toBe(403);
    const other = (await rt.app.inject({ method: 'GET', url: `/api/conversations/${b.conversationId}`, headers: bearer(b.member) })).json() as { title: unknown };
    expect(other.title).toBeNull();
  });
});
