import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, parseSseBody, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';

describe('messages through the pipeline', () => {
  let llm: FakeLlm;
  let rt: TestRuntime;
  let key: string;
  beforeAll(async () => {
    llm = await startFakeLlm();
    rt = await startTestRuntime({ AGENTIK_OLLAMA_URL: llm.url, AGENTIK_OPENAI_BASE_URL: llm.openAiUrl, AGENTIK_ANTHROPIC_BASE_URL: llm.url, AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-test' });
    const t = await rt.createTenant({ name: 'Acme', plan: 'enterprise' });
    key = await rt.createKey(t.id);
  });
  afterAll(async () => {
    await rt.close();
    await llm.close();
  });

  for (const provider of ['ollama', 'openai-compatible', 'anthropic'] as const) {
    it(`answers through ${provider}, json and sse`, async () => {
      const created = await rt.app.inject({
        method: 'POST',
        url: '/api/agents',
        headers: bearer(key),
        payload: { name: `bot-${provider}`, systemPrompt: 'be nice', provider, model: provider === 'anthropic' ? 'claude-sonnet-4-5' : 'llama3.2' },
      });
      expect(created.statusCode).toBe(201);
      const agent = created.json();
      const res = await rt.app.inject({ method: 'POST', url: `/api/agents/${agent.id}/messages`, headers: bearer(key), payload: { content: 'hi' } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.message.content).toBe('Hello! Nice to meet you.');
      expect(body.usage).toEqual({ inputTokens: 24, outputTokens: 8 });
      const sse = await rt.app.inject({
        method: 'POST',
        url: `/api/agents/${agent.id}/messages`,
        headers: bearer(key, { accept: 'text/event-stream' }),
        payload: { content: 'again', conversationId: body.conversationId },
      });
      expect(sse.statusCode).toBe(200);
      expect(sse.headers['content-type']).toContain('text/event-stream');
      const events = parseSseBody(sse.body);
      const deltas = events.slice(0, -1);
      const done = events.at(-1)!;
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.map((e) => e.event)).toEqual(deltas.map(() => 'delta'));
      expect(done.event).toBe('done');
      const doneBody = done.data as { message: { content: string } };
      expect(doneBody.message.content).toBe('Hello! Nice to meet you.');
      expect(deltas.map((e) => (e.data as { text: string }).text).join('')).toBe(doneBody.message.content);
      const conv = await rt.app.inject({ method: 'GET', url: `/api/conversations/${body.conversationId}`, headers: bearer(key) });
      const messages = conv.json().messages;
      expect(messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      // Each reply carries the usage and cost of the call that produced it; user turns carry none.
      expect(messages[1]).toMatchObject({ usage: { inputTokens: 24, outputTokens: 8 }, costUsd: body.costUsd });
      expect(messages[0]).toMatchObject({ usage: null, costUsd: null });
    });
  }
  it('times each of the nine stages into the stage histogram', async () => {
    const stageCounts = async () => {
      const text = (await rt.app.inject({ method: 'GET', url: '/metrics' })).body;
      const counts = new Map<string, number>();
      for (const m of text.matchAll(/^agentik_pipeline_stage_duration_seconds_count\{stage="([^"]+)"\} (\d+)$/gm)) counts.set(m[1]!, Number(m[2]));
      return counts;
    };
    const created = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'timed', systemPrompt: 'be nice', provider: 'ollama', model: 'llama3.2' } });
    expect(created.statusCode).toBe(201);
    const before = await stageCounts();
    const res = await rt.app.inject({ method: 'POST', url: `/api/agents/${created.json().id}/messages`, headers: bearer(key), payload: { content: 'hi' } });
    expect(res.statusCode).toBe(200);
    const after = await stageCounts();
    const stages = ['normalize', 'route', 'load-memory', 'model-select', 'tool-resolve', 'execute', 'save-memory', 'track-cost', 'send-response'];
    expect([...after.keys()]).toEqual(expect.arrayContaining(stages));
    for (const stage of stages) expect(after.get(stage)! - (before.get(stage) ?? 0), stage).toBe(1);
  });
});
