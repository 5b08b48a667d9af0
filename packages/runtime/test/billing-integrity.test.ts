import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, parseSseBody, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';

/**
 * Billing integrity on both backends: every model call is booked, no input string carries a NUL
 * or a lone surrogate into the stores, a reply's NUL is stored safely, a turn that cannot be saved
 * is still booked, and token counts the upstream reports are checked before they are billed.
 * gpt-4o costs 2.5 $/MTok in and 10 $/MTok out; the agent's maxTokens is 100.
 */

const ENCRYPTION_KEY = 'ab'.repeat(32);
const CALL_USD = (40 * 2.5 + 100 * 10) / 1e6;

interface Tenant {
  id: string;
  key: string;
  agentId: string;
}

interface CostEventView {
  conversationId: string | null;
  messageId: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  usageAnomaly: string | null;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`billing integrity (${backend})`, () => {
    let llm: FakeLlm;
    let rt: TestRuntime;
    let db: TestDatabase | undefined;

    beforeAll(async () => {
      llm = await startFakeLlm({ defaultReply: { text: 'ok', usage: { input: 40, output: 100 } } });
      db = backend === 'postgres' ? await createTestDatabase() : undefined;
      rt = await startTestRuntime({
        AGENTIK_LOG_LEVEL: 'warn',
        AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
        AGENTIK_ENCRYPTION_KEY: ENCRYPTION_KEY,
        ...(db ? { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url } : {}),
      });
    });

    afterAll(async () => {
      await rt.close();
      await llm.close();
      await db?.drop();
    });

    async function makeTenant(name: string): Promise<Tenant> {
      const t = await rt.createTenant({ name, plan: 'enterprise' });
      const key = await rt.createKey(t.id);
      const res = await rt.app.inject({
        method: 'POST',
        url: '/api/agents',
        headers: bearer(key),
        payload: { name: 'bot', systemPrompt: 'Be brief.', provider: 'openai', model: 'gpt-4o', maxTokens: 100 },
      });
      expect(res.statusCode, res.body).toBe(201);
      return { id: t.id, key, agentId: (res.json() as { id: string }).id };
    }

    /** A request whose JSON body is sent exactly as written (escapes such as \u0000 stay escapes). */
    const rawJson = (t: Tenant, method: 'POST' | 'PUT' | 'PATCH', url: string, body: string, headers: Record<string, string> = {}) =>
      rt.app.inject({ method, url, headers: bearer(t.key, { 'content-type': 'application/json', ...headers }), payload: body });
    const get = (t: Tenant, url: string) => rt.app.inject({ method: 'GET', url, headers: bearer(t.key) });
    const ask = (t: Tenant, content: string, headers: Record<string, string> = {}) =>
      rt.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key, headers), payload: { content } });
    const events = async (t: Tenant) => ((await get(t, '/api/costs/events?limit=200')).json() as { data: CostEventView[] }).data;
    const budget = async (t: Tenant) => (await get(t, '/api/budget')).json() as { spentUsd: number; reservedUsd: number };

    /**
     * Makes the tenant's store refuse inserts into `table` for which `when` holds (a real trigger,
     * `when` written over the row as NEW).
     */
    async function refuseInserts(t: Tenant, table: 'messages' | 'cost_events', when: string): Promise<void> {
      if (backend === 'sqlite') {
        const file = new Database(path.join(rt.dataDir, 'tenants', `${t.id}.db`));
        try {
          file.exec(`CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${table} WHEN ${when}
                     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
        } finally {
          file.close();
        }
        return;
      }
      const client = new pg.Client({ connectionString: db!.adminUrl });
      await client.connect();
      try {
        const schema = `"t_${t.id}"`;
        await client.query(`CREATE FUNCTION ${schema}.refuse_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF ${when} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
        await client.query(`CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${schema}.${table}
          FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_${table}()`);
      } finally {
        await client.end();
      }
    }
    const refuseUnsaveableTurns = (t: Tenant) => refuseInserts(t, 'messages', `NEW.content LIKE '%unsaveable%'`);

    it('a NUL in any input string is refused with 400 VALIDATION_FAILED before the model is called', async () => {
      const t = await makeTenant('Nul input');
      const calls = llm.chatRequestCount;
      const refused = [
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"hi\\u0000there"}'),
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"hi","userId":"u\\u0000"}'),
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"hi","conversationId":"c\\u0000"}'),
        await rawJson(t, 'POST', '/v1/chat/completions', '{"model":"bot","messages":[{"role":"user","content":"hi\\u0000"}]}'),
        await rawJson(t, 'POST', '/v1/chat/completions', '{"model":"bot","user":"end\\u0000user","messages":[{"role":"user","content":"hi"}]}'),
        await rawJson(t, 'POST', '/v1/chat/completions', '{"model":"bot\\u0000","messages":[{"role":"user","content":"hi"}]}'),
        await rawJson(t, 'POST', '/api/agents', '{"name":"n\\u0000","systemPrompt":"","provider":"openai","model":"gpt-4o"}'),
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"hi","a\\u0000":1}'),
        await rawJson(t, 'POST', '/api/agents/a%00b/messages', '{"content":"hi"}'),
        await get(t, '/api/conversations/a%00b'),
        await get(t, '/api/conversations?cursor=%00'),
        await get(t, '/api/costs/events?cursor=x%00'),
        await get(t, '/api/conversations/search?q=a%00'),
      ];
      for (const res of refused) {
        expect(res.statusCode, res.body).toBe(400);
        expect((res.json() as { error: { code: string; message: string } }).error).toEqual({
          code: 'VALIDATION_FAILED',
          message: expect.stringContaining('NUL'),
        });
      }
      expect(llm.chatRequestCount).toBe(calls);
      expect(await events(t)).toEqual([]);
      expect(((await get(t, '/api/conversations')).json() as { data: unknown[] }).data).toEqual([]);
    });

    it('a lone surrogate in any input string is refused with 400 like other invalid UTF-8', async () => {
      const t = await makeTenant('Surrogates');
      const calls = llm.chatRequestCount;
      const refused = [
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"\\ud800"}'),
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"ok \\udc00 then"}'),
        await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"hi","userId":"\\ud83d"}'),
        await rawJson(t, 'POST', '/v1/chat/completions', '{"model":"bot","user":"\\udbff","messages":[{"role":"user","content":"hi"}]}'),
        await rawJson(t, 'POST', '/api/agents', '{"name":"\\ud800x","systemPrompt":"","provider":"openai","model":"gpt-4o"}'),
        await get(t, '/api/conversations?cursor=%ED%A0%80'),
        await get(t, '/api/conversations/search?q=%ED%A0%80'),
        await get(t, '/api/conversations/%ED%A0%80'),
      ];
      for (const res of refused) {
        expect(res.statusCode, res.body).toBe(400);
        expect((res.json() as { error: { code: string } }).error.code).toBe('MALFORMED_REQUEST');
      }
      expect(llm.chatRequestCount).toBe(calls);
      // A well-formed pair (an emoji) is ordinary text and goes through.
      const ok = await rawJson(t, 'POST', `/api/agents/${t.agentId}/messages`, '{"content":"smile \\ud83d\\ude00"}');
      expect(ok.statusCode, ok.body).toBe(200);
      const conversationId = (ok.json() as { conversationId: string }).conversationId;
      const stored = (await get(t, `/api/conversations/${conversationId}`)).json() as { messages: { content: string }[] };
      expect(stored.messages[0]!.content).toBe('smile \u{1F600}');
    });

    it('a reply containing NUL is delivered, stored and booked with U+FFFD in place of each NUL', async () => {
      const t = await makeTenant('Nul reply');
      llm.enqueue({ text: 'a\u0000b\u0000', usage: { input: 40, output: 100 } });
      const res = await ask(t, 'say something odd');
      expect(res.statusCode, res.body).toBe(200);
      const reply = res.json() as { conversationId: string; message: { content: string }; costUsd: number };
      expect(reply.message.content).toBe('a\uFFFDb\uFFFD');
      expect(reply.costUsd).toBeCloseTo(CALL_USD, 9);
      const stored = (await get(t, `/api/conversations/${reply.conversationId}`)).json() as { messages: { role: string; content: string }[] };
      expect(stored.messages.map((m) => m.content)).toEqual(['say something odd', 'a\uFFFDb\uFFFD']);

      llm.enqueue({ tokens: ['x\u0000', 'y'], usage: { input: 40, output: 100 } });
      const sse = await ask(t, 'stream it', { accept: 'text/event-stream' });
      const parsed = parseSseBody(sse.body);
      expect(parsed.map((e) => e.event)).toEqual(['delta', 'delta', 'done']);
      expect(parsed.slice(0, 2).map((e) => (e.data as { text: string }).text).join('')).toBe('x\uFFFDy');
      expect((parsed[2]!.data as { message: { content: string } }).message.content).toBe('x\uFFFDy');

      const booked = await events(t);
      expect(booked).toHaveLength(2);
      expect((await budget(t)).spentUsd).toBeCloseTo(2 * CALL_USD, 9);
    });

    it('a turn the store refuses after the model answered is still booked, and the reply is delivered (JSON and SSE)', async () => {
      const t = await makeTenant('Unsaveable');
      expect((await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(t.key), payload: { monthlyLimitUsd: 1, hard: true } })).statusCode).toBe(200);
      await refuseUnsaveableTurns(t);
      const calls = llm.chatRequestCount;

      const json = await ask(t, 'an unsaveable question');
      expect(json.statusCode, json.body).toBe(200);
      const reply = json.json() as { conversationId: string; message: { content: string }; costUsd: number };
      expect(reply.message.content).toBe('ok');
      expect(reply.costUsd).toBeCloseTo(CALL_USD, 9);

      const sse = await ask(t, 'another unsaveable one', { accept: 'text/event-stream' });
      expect(sse.statusCode).toBe(200);
      expect(parseSseBody(sse.body).map((e) => e.event)).toEqual(['delta', 'done']);

      expect(llm.chatRequestCount - calls).toBe(2);
      const booked = await events(t);
      expect(booked).toHaveLength(2);
      for (const e of booked) {
        expect(e.costUsd).toBeCloseTo(CALL_USD, 9);
        // The turn was not saved, so the event points at no message.
        expect(e.messageId).toBeNull();
      }
      expect(booked[0]!.conversationId).toBe(reply.conversationId);
      const spent = await budget(t);
      expect(spent.spentUsd).toBeCloseTo(2 * CALL_USD, 9);
      expect(spent.reservedUsd).toBe(0);
      expect(rt.logs.some((l) => l.includes('could not save the turn'))).toBe(true);
      // Nothing half-made: the refused turns left no conversation behind.
      expect(((await get(t, '/api/conversations')).json() as { data: unknown[] }).data).toEqual([]);
    });

    it('a call the store cannot book at all keeps its reservation held as spent, and the reply is delivered', async () => {
      const t = await makeTenant('Unbookable');
      const limit = 1;
      expect((await rt.app.inject({ method: 'PUT', url: '/api/budget', headers: bearer(t.key), payload: { monthlyLimitUsd: limit, hard: true } })).statusCode).toBe(200);
      await refuseInserts(t, 'cost_events', 'NEW.id IS NOT NULL');
      const res = await ask(t, 'book me if you can');
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as { message: { content: string } }).message.content).toBe('ok');
      const held = await budget(t);
      expect(held.spentUsd).toBe(0);
      // The call's worst case (its prompt's byte bound and maxTokens 100 at gpt-4o) stays counted.
      expect(held.reservedUsd).toBeGreaterThanOrEqual(CALL_USD);
      expect(held.reservedUsd).toBeLessThan(CALL_USD + 0.002);
      expect(rt.logs.some((l) => l.includes('could not book a model call'))).toBe(true);
    });

    it('usage the upstream over-reports or garbles is booked at the call bound and flagged, never lost', async () => {
      const t = await makeTenant('Lying usage');
      const lies: Array<{ input: number | string; output: number | string }> = [
        { input: 40, output: 5_000_000 },
        { input: 40, output: 10.5 },
        { input: 1e300, output: 100 },
        { input: 40, output: -5 },
        { input: '40', output: '100' },
      ];
      for (const usage of lies) llm.enqueue({ text: 'ok', usage });
      for (let i = 0; i < lies.length; i++) {
        const res = await ask(t, `lie ${i}`);
        expect(res.statusCode, `${JSON.stringify(lies[i])}: ${res.body}`).toBe(200);
      }
      const booked = await events(t);
      expect(booked).toHaveLength(lies.length);
      expect(booked.map((e) => e.usageAnomaly)).toEqual(['over_bound', 'invalid', 'over_bound', 'invalid', 'invalid']);
      // The output bound is the agent's maxTokens; a count above it is booked at it.
      expect(booked[0]!.outputTokens).toBe(100);
      expect(booked[0]!.inputTokens).toBe(40);
      expect(booked[0]!.costUsd).toBeCloseTo(CALL_USD, 9);
      for (const e of booked) {
        expect(Number.isInteger(e.inputTokens)).toBe(true);
        expect(Number.isInteger(e.outputTokens)).toBe(true);
        expect(e.outputTokens).toBeLessThanOrEqual(100);
        expect(e.costUsd).not.toBeNull();
      }
      const spent = await budget(t);
      expect(spent.reservedUsd).toBe(0);
      // Nothing booked above what the calls reserved: the bounds of five calls.
      expect(spent.spentUsd).toBeLessThan(5 * (CALL_USD + 0.001));
      expect(rt.logs.some((l) => l.includes('token usage out of bounds'))).toBe(true);
    });
  });
}
