import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';
import { spawnServe, stopServe, type ServeChild } from '../src/test-support/spawn-runtime.js';

/**
 * Several real `agentik serve` processes on ONE fresh Postgres database, behind no proxy, hit
 * concurrently: tenant isolation, a hard budget, key revocation and the per-tenant rate limit
 * must hold across replicas, because each is enforced in the database (or Redis), not in a
 * process. `r1`/`r2` count rate limits in the database; `r3`/`r4` in Redis.
 */

const OPERATOR_KEY = 'agk_replica_test_operator_key_0123456789abcdef';
const ENCRYPTION_KEY = 'cd'.repeat(32);
const REDIS_URL = 'redis://127.0.0.1:6379/0';
/** gpt-4o: 2.5 $/MTok in, 10 $/MTok out; the fake reports 40 in and 100 out (= maxTokens). */
const CALL_USD = (40 * 2.5 + 100 * 10) / 1e6;

type Replica = ServeChild;

let db: TestDatabase;
let llm: FakeLlm;
const replicas: Replica[] = [];
const dirs: string[] = [];

async function startReplica(extra: Record<string, string> = {}): Promise<Replica> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-replica-'));
  dirs.push(dataDir);
  return spawnServe(
    {
      AGENTIK_STORAGE: 'postgres',
      AGENTIK_DATABASE_URL: db.url,
      AGENTIK_DATABASE_POOL_SIZE: '8',
      AGENTIK_DATA_DIR: dataDir,
      AGENTIK_HOST: '127.0.0.1',
      AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
      AGENTIK_ENCRYPTION_KEY: ENCRYPTION_KEY,
      AGENTIK_OLLAMA_URL: llm.url,
      AGENTIK_OPENAI_BASE_URL: llm.openAiUrl,
      AGENTIK_LOG_LEVEL: 'warn',
      ...extra,
    },
    { name: 'replica', readyTimeoutMs: 40_000, pollMs: 100, onSpawn: (r) => replicas.push(r) },
  );
}

async function call(r: Replica, method: string, url: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${r.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read field by field; the assertions are the schema
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

interface Tenant {
  id: string;
  key: string;
  agentId: string;
}

/** A tenant made through `r`, with an owner key and one agent. */
async function makeTenant(r: Replica, name: string, plan: string, agent: { provider: string; model: string }): Promise<Tenant> {
  const t = await call(r, 'POST', '/api/tenants', OPERATOR_KEY, { name, owner: 'ops@example.test', plan });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  const k = await call(r, 'POST', `/api/tenants/${t.body.id}/keys`, OPERATOR_KEY, { role: 'owner' });
  expect(k.status).toBe(201);
  const a = await call(r, 'POST', '/api/agents', k.body.key, { name: 'bot', systemPrompt: 'Be brief.', maxTokens: 100, ...agent });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  return { id: t.body.id, key: k.body.key, agentId: a.body.id };
}

const ask = (r: Replica, t: Tenant, content: string) => call(r, 'POST', `/api/agents/${t.agentId}/messages`, t.key, { content });

/** Waits, when needed, so that a burst of requests does not straddle a minute boundary. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((r) => setTimeout(r, 60_000 - into + 500));
}

beforeAll(async () => {
  db = await createTestDatabase();
  llm = await startFakeLlm({
    instant: true,
    recordRequests: false,
    defaultReply: { text: 'ok', usage: { input: 40, output: 100 } },
    replyFor: (body) => (body.model === 'slow-model' ? { text: 'ok', firstByteDelayMs: 1_500 } : undefined),
  });
  // The first replica creates the schema and the operator key; the others join it.
  await startReplica();
  await Promise.all([startReplica(), startReplica({ AGENTIK_REDIS_URL: REDIS_URL }), startReplica({ AGENTIK_REDIS_URL: REDIS_URL })]);
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopServe(r)));
  await llm?.close();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('replicas on one Postgres database', () => {
  it('each replica reports the database and migrations as ready', async () => {
    for (const r of replicas) {
      const res = await fetch(`${r.url}/ready`);
      const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
      expect(res.status).toBe(200);
      expect(body.checks).toMatchObject({ database: { ok: true }, migrations: { ok: true } });
    }
  });

  it('keeps two tenants apart on both replicas, hit concurrently', async () => {
    const [r1, r2] = replicas as [Replica, Replica];
    const [a, b] = await Promise.all([
      makeTenant(r1, 'Alpha', 'enterprise', { provider: 'ollama', model: 'llama3.2' }),
      makeTenant(r2, 'Beta', 'enterprise', { provider: 'ollama', model: 'llama3.2' }),
    ]);
    // A talks through r1; its conversation is visible to A on r2 and to nobody else anywhere.
    const said = await ask(r1, a, 'the secret word is heliotrope');
    expect(said.status, JSON.stringify(said.body)).toBe(200);
    const convId = said.body.conversationId as string;
    const checks = await Promise.all(
      [r1, r2].flatMap((r) => [
        call(r, 'GET', `/api/agents/${a.agentId}`, a.key),
        call(r, 'GET', `/api/conversations/${convId}`, a.key),
        call(r, 'GET', `/api/agents/${a.agentId}`, b.key),
        call(r, 'GET', `/api/conversations/${convId}`, b.key),
        call(r, 'GET', '/api/conversations/search?q=heliotrope', b.key),
        call(r, 'GET', '/api/agents', b.key, undefined, { 'x-tenant-id': a.id }),
        call(r, 'DELETE', `/api/agents/${a.agentId}`, b.key),
        call(r, 'GET', '/api/agents', b.key),
      ]),
    );
    for (let i = 0; i < 2; i++) {
      const [ownAgent, ownConv, bAgent, bConv, bSearch, bAsA, bDelete, bList] = checks.slice(i * 8, i * 8 + 8);
      expect(ownAgent!.status).toBe(200);
      expect(ownConv!.body.messages).toHaveLength(2);
      expect(bAgent!.status).toBe(404);
      expect(bConv!.status).toBe(404);
      expect(bSearch!.body.data).toEqual([]);
      expect(bAsA!.status).toBe(404);
      expect(bAsA!.body.error.code).toBe('TENANT_NOT_FOUND');
      expect(bDelete!.status).toBe(404);
      expect(bList!.body.data.map((x: { id: string }) => x.id)).toEqual([b.agentId]);
    }
    expect((await call(r2, 'GET', `/api/agents/${a.agentId}`, a.key)).status).toBe(200);
  });

  it('holds a hard budget across both replicas: 50 concurrent calls never overshoot it', async () => {
    const [r1, r2] = replicas as [Replica, Replica];
    const t = await makeTenant(r1, 'Budget', 'enterprise', { provider: 'openai', model: 'gpt-4o' });
    const limit = CALL_USD * 10 + CALL_USD / 2;
    expect((await call(r2, 'PUT', '/api/budget', t.key, { monthlyLimitUsd: limit, hard: true })).status).toBe(200);
    const before = llm.chatRequestCount;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(i % 2 === 0 ? r1 : r2, t, `question ${i}`)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    for (const r of refused) expect(r.body.error.code).toBe('BUDGET_EXCEEDED');
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(10);
    // A refused call never reached the LLM.
    expect(llm.chatRequestCount - before).toBe(ok.length);
    for (const r of [r1, r2]) {
      const budget = await call(r, 'GET', '/api/budget', t.key);
      expect(budget.body.spentUsd).toBeLessThanOrEqual(limit + 1e-12);
      expect(budget.body.spentUsd).toBeCloseTo(ok.length * CALL_USD, 10);
      expect(budget.body.reservedUsd).toBeCloseTo(0, 12);
    }
    const events = await call(r2, 'GET', '/api/costs/events?limit=200', t.key);
    const recorded = (events.body.data as { costUsd: number }[]).reduce((sum, e) => sum + e.costUsd, 0);
    expect(events.body.data).toHaveLength(ok.length);
    expect(recorded).toBeLessThanOrEqual(limit + 1e-12);
  });

  it('refuses on one replica a key revoked through the other, within 1 s', async () => {
    const [r1, r2] = replicas as [Replica, Replica];
    const t = await makeTenant(r1, 'Revoke', 'pro', { provider: 'ollama', model: 'llama3.2' });
    const made = await call(r1, 'POST', '/api/keys', t.key, { role: 'member', name: 'to-revoke' });
    expect(made.status).toBe(201);
    expect((await call(r2, 'GET', '/api/agents', made.body.key)).status).toBe(200);
    expect((await call(r1, 'DELETE', `/api/keys/${made.body.id}`, t.key)).status).toBe(204);
    const revokedAt = Date.now();
    let status = 0;
    while (Date.now() - revokedAt < 1_000) {
      status = (await call(r2, 'GET', '/api/agents', made.body.key)).status;
      if (status === 401) break;
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    // Every replica refuses it, the Redis ones too; the tenant's other key still works.
    for (const r of replicas) expect((await call(r, 'GET', '/api/agents', made.body.key)).status).toBe(401);
    expect((await call(r2, 'GET', '/api/agents', t.key)).status).toBe(200);
  });

  for (const [label, pair] of [
    ['in the database', [0, 1]],
    ['in Redis', [2, 3]],
  ] as const) {
    it(`shares the per-tenant rate limit across replicas (${label})`, async () => {
      const [ra, rb] = [replicas[pair[0]]!, replicas[pair[1]]!];
      const t = await makeTenant(ra, `Rate ${label}`, 'free', { provider: 'ollama', model: 'llama3.2' });
      await awayFromMinuteEdge();
      // The free plan allows 60 requests a minute, for the tenant as a whole, and 4 model calls
      // at once: the 70 go in waves of 3, so only the rate limit refuses.
      const results: Awaited<ReturnType<typeof ask>>[] = [];
      for (let i = 0; i < 70; i += 3) {
        const wave = Array.from({ length: Math.min(3, 70 - i) }, (_, j) => ask((i + j) % 2 === 0 ? ra : rb, t, `hi ${i + j}`));
        results.push(...(await Promise.all(wave)));
      }
      const ok = results.filter((r) => r.status === 200);
      const limited = results.filter((r) => r.status === 429);
      expect(ok).toHaveLength(60);
      expect(limited).toHaveLength(10);
      for (const r of limited) {
        expect(r.body.error.code).toBe('RATE_LIMITED');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // Both replicas served some of the 60.
      const served = (i: number) => results.filter((r, j) => j % 2 === i && r.status === 200).length;
      expect(served(0)).toBeGreaterThan(0);
      expect(served(1)).toBeGreaterThan(0);
    }, 90_000);
  }

  for (const [label, pair] of [
    ['in the database', [0, 1]],
    ['in Redis', [2, 3]],
  ] as const) {
    it(`an operator's requests-per-minute override, raised and lowered on one replica, holds on both (${label})`, async () => {
      const [ra, rb] = [replicas[pair[0]]!, replicas[pair[1]]!];
      const t = await makeTenant(ra, `Override ${label}`, 'free', { provider: 'ollama', model: 'llama3.2' });
      const setRpm = async (r: Replica, rpm: number | null) => {
        const res = await call(r, 'PATCH', `/api/tenants/${t.id}`, OPERATOR_KEY, { limits: { requestsPerMinute: rpm } });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body;
      };
      let n = 0;
      const burst = async (count: number) => {
        const codes: number[] = [];
        for (let i = 0; i < count; i++, n++) codes.push((await ask(n % 2 === 0 ? ra : rb, t, `hi ${n}`)).status);
        return codes;
      };
      await awayFromMinuteEdge();
      // Lowered to 4 through rb: the 5th request of the minute, on either replica, is refused.
      expect((await setRpm(rb, 4)).limits.requestsPerMinute).toEqual({ value: 4, source: 'override' });
      expect(await burst(5)).toEqual([200, 200, 200, 200, 429]);
      // Raised to 7 through ra: three more go through, then 429 again.
      await setRpm(ra, 7);
      expect(await burst(4)).toEqual([200, 200, 200, 429]);
      // Cleared: the free plan's 60 again, read by both replicas.
      const cleared = await setRpm(rb, null);
      expect(cleared.limits.requestsPerMinute).toEqual({ value: 60, source: 'plan' });
      expect(await burst(2)).toEqual([200, 200]);
      const shown = await call(ra, 'GET', `/api/tenants/${t.id}`, OPERATOR_KEY);
      expect(shown.body.limits.requestsPerMinute).toEqual({ value: 60, source: 'plan' });
    }, 90_000);
  }

  it('shares the per-tenant concurrent-call limit across replicas (in Redis)', async () => {
    const [ra, rb] = [replicas[2]!, replicas[3]!];
    const t = await makeTenant(ra, 'Concurrency', 'free', { provider: 'ollama', model: 'slow-model' });
    // The free plan allows 4 model calls at once: 10 slow ones spread over both replicas.
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(i % 2 === 0 ? ra : rb, t, `slow ${i}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(6);
    for (const r of limited) {
      expect(r.body.error.code).toBe('RATE_LIMITED');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    // The slots are free again once the calls ended.
    expect((await ask(rb, t, 'again')).status).toBe(200);
  }, 30_000);
});
