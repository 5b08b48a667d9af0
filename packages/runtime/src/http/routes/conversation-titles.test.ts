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
  const key = await rt.createKey(t.id, 'viewer');
  const agent = (await rt.app.inject({ method: 'POST', url: '/api/agents', headers: rt.operator(t.id), payload: { name: 'bot', systemPrompt: '', provider: 'ollama', model: 'llama3.2' } })).json() as { id: string };
  const sent = await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: rt.operator(t.id), payload: { content: first } });
  expect(sent.statusCode, sent.body).toBe(200);
  const conversationId = (sent.json() as { conversationId: string }).conversationId;
  await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: rt.operator(t.id), payload: { content: 'a second turn', conversationId } });
  return { key, conversationId };
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
