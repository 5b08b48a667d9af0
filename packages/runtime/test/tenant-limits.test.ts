import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_LIMITS } from '@agentik/shared';
import { buildApp } from '../src/http/app.js';
import { runCli } from '../src/cli/commands.js';
import { startFakeLlm, type FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';

/**
 * Issue 15, operator-set tenant limits, on both backends: `PATCH /api/tenants/:id` overrides a
 * plan's limits per tenant (null goes back to the plan's), the tenant shows each effective limit
 * with its source, every change is audited, and the rate limit (in-process on SQLite, in the
 * database on two Postgres replicas), the key and agent limits and the concurrent calls follow
 * the override at once.
 */

type Backend = 'sqlite' | 'postgres';

let llm: FakeLlm;

beforeAll(async () => {
  llm = await startFakeLlm({
    instant: true,
    recordRequests: false,
    defaultReply: { text: 'ok', usage: { input: 4, output: 2 } },
    replyFor: (body) => (body.model === 'slow-model' ? { text: 'ok', firstByteDelayMs: 1_000 } : undefined),
  });
});

afterAll(async () => {
  await llm?.close();
});

/** Waits, when needed, so that a burst of requests does not straddle a minute boundary. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((r) => setTimeout(r, 60_000 - into + 500));
}

describe.each<Backend>(['sqlite', 'postgres'])('operator-set tenant limits (%s)', (backend) => {
  let db: TestDatabase | undefined;
  let rt: TestRuntime;
  /** A second runtime on the same database (Postgres only): another replica. */
  let replica: TestRuntime | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { AGENTIK_LOG_LEVEL: 'warn', AGENTIK_OLLAMA_URL: llm.url };
    if (backend === 'postgres') {
      db = await createTestDatabase();
      env = { ...env, AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_DATABASE_POOL_SIZE: '6', AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32) };
    }
    rt = await startTestRuntime(env);
    if (backend === 'postgres') replica = await startTestRuntime(env);
  }, 60_000);

  afterAll(async () => {
    await replica?.close();
    await rt?.close();
    await db?.drop();
  });

  const patch = (ref: string, payload: unknown, headers: Record<string, string> = rt.operator()) =>
    rt.app.inject({ method: 'PATCH', url: `/api/tenants/${ref}`, headers, payload: payload as Record<string, unknown> });

  async function makeTenant(name: string, plan = 'free', model = 'llama3.2') {
    const t = await rt.createTenant({ name, plan });
    const key = await rt.createKey(t.id);
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/agents',
      headers: bearer(key),
      payload: { name: 'bot', systemPrompt: 'Be brief.', provider: 'ollama', model, maxTokens: 10 },
    });
    expect(res.statusCode, res.body).toBe(201);
    return { ...t, key, agentId: (res.json() as { id: string }).id };
  }

  it('shows the effective limits with their source, sets and clears overrides by id or slug, and audits each change', async () => {
    const t = await makeTenant('Shown', 'pro');
    const plan = PLAN_LIMITS.pro;
    const get = await rt.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() });
    expect(get.statusCode).toBe(200);
    expect(get.json().limits).toEqual({
      maxAgents: { value: plan.maxAgents, source: 'plan' },
      maxKeys: { value: plan.maxKeys, source: 'plan' },
      requestsPerMinute: { value: plan.requestsPerMinute, source: 'plan' },
      maxConcurrentCalls: { value: plan.maxConcurrentCalls, source: 'plan' },
    });

    const raised = await patch(t.slug, { limits: { requestsPerMinute: 120_000, maxConcurrentCalls: 200 } });
    expect(raised.statusCode, raised.body).toBe(200);
    expect(raised.json()).toMatchObject({
      id: t.id,
      slug: t.slug,
      plan: 'pro',
      status: 'active',
      limits: {
        requestsPerMinute: { value: 120_000, source: 'override' },
        maxConcurrentCalls: { value: 200, source: 'override' },
        maxAgents: { value: plan.maxAgents, source: 'plan' },
      },
    });
    // The list and a read on the other replica show the same.
    const list = await rt.app.inject({ method: 'GET', url: '/api/tenants?limit=200', headers: rt.operator() });
    const listed = (list.json() as { data: { id: string; limits: unknown }[] }).data.find((x) => x.id === t.id);
    expect(listed?.limits).toEqual(raised.json().limits);
    const other = replica ?? rt;
    const again = await other.app.inject({ method: 'GET', url: `/api/tenants/${t.slug}`, headers: other.operator() });
    expect(again.json().limits).toEqual(raised.json().limits);

    // A plan change keeps the overrides; null clears one, back to the (new) plan's value.
    const planned = await patch(t.id, { plan: 'enterprise', limits: { requestsPerMinute: null } });
    expect(planned.statusCode, planned.body).toBe(200);
    expect(planned.json().plan).toBe('enterprise');
    expect(planned.json().limits.requestsPerMinute).toEqual({ value: PLAN_LIMITS.enterprise.requestsPerMinute, source: 'plan' });
    expect(planned.json().limits.maxConcurrentCalls).toEqual({ value: 200, source: 'override' });

    const audit = await rt.app.inject({ method: 'GET', url: `/api/audit?tenantId=${t.id}&limit=200`, headers: rt.operator() });
    const records = await rt.backend.master.audit.list({ limit: 200 }, t.id);
    const updates = records.items.filter((e) => e.action === 'tenant.updated');
    expect(updates.map((e) => e.details), audit.body).toEqual([
      { limits: { requestsPerMinute: { from: null, to: 120_000 }, maxConcurrentCalls: { from: null, to: 200 } } },
      { plan: { from: 'pro', to: 'enterprise' }, limits: { requestsPerMinute: { from: 120_000, to: null } } },
    ]);
    for (const e of updates) expect(e).toMatchObject({ actor: expect.stringContaining('operator'), target: `tenant:${t.id}` });

    // A patch that changes nothing writes no audit entry.
    expect((await patch(t.id, { limits: { requestsPerMinute: null } })).statusCode).toBe(200);
    expect((await rt.backend.master.audit.list({ limit: 200 }, t.id)).items.filter((e) => e.action === 'tenant.updated')).toHaveLength(2);

    expect((await patch('no-such-tenant', { plan: 'pro' })).json().error.code).toBe('TENANT_NOT_FOUND');
  });

  it('raises and lowers the requests per minute: 429 at the new limit (across replicas on Postgres)', async () => {
    const t = await makeTenant('Rate');
    const runtimes = replica ? [rt, replica] : [rt];
    let n = 0;
    const ask = () => {
      const r = runtimes[n++ % runtimes.length]!;
      return r.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key), payload: { content: `hi ${n}` } });
    };
    const burst = async (count: number) => {
      const codes: number[] = [];
      for (let i = 0; i < count; i++) codes.push((await ask()).statusCode);
      return codes;
    };
    await awayFromMinuteEdge();
    // Lowered to 5: the 6th request of the minute is refused, with the override in the message.
    expect((await patch(t.id, { limits: { requestsPerMinute: 5 } })).statusCode).toBe(200);
    expect(await burst(6)).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await ask();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(limited.json().error.message).toContain('allows 5 requests per minute');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // Raised to 8: three more go through, the next is refused.
    expect((await patch(t.id, { limits: { requestsPerMinute: 8 } })).statusCode).toBe(200);
    expect(await burst(4)).toEqual([200, 200, 200, 429]);

    // Lowered to 3 (below what was already used): refused at once.
    expect((await patch(t.id, { limits: { requestsPerMinute: 3 } })).statusCode).toBe(200);
    expect(await burst(2)).toEqual([429, 429]);

    // Cleared: back to the free plan's 60 a minute, so the next ones go through again.
    const cleared = await patch(t.id, { limits: { requestsPerMinute: null } });
    expect(cleared.json().limits.requestsPerMinute).toEqual({ value: PLAN_LIMITS.free.requestsPerMinute, source: 'plan' });
    expect(await burst(3)).toEqual([200, 200, 200]);
  }, 90_000);

  it('enforces maxKeys and maxAgents overrides, lower and higher than the plan', async () => {
    const t = await makeTenant('Counts');
    // The tenant has 1 key and 1 agent. Lowered to 3 keys and 2 agents.
    expect((await patch(t.id, { limits: { maxKeys: 3, maxAgents: 2 } })).statusCode).toBe(200);
    const other = replica ?? rt;
    const newKey = (r: TestRuntime) => r.app.inject({ method: 'POST', url: `/api/tenants/${t.id}/keys`, headers: r.operator(), payload: { role: 'member' } });
    const newAgent = (r: TestRuntime, name: string) =>
      r.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(t.key), payload: { name, systemPrompt: 'x', provider: 'ollama', model: 'llama3.2' } });
    expect((await newKey(rt)).statusCode).toBe(201);
    expect((await newKey(other)).statusCode).toBe(201);
    const overKeys = await newKey(rt);
    expect(overKeys.statusCode).toBe(403);
    expect(overKeys.json().error).toEqual({ code: 'PLAN_LIMIT_REACHED', message: expect.stringContaining('allows 3 live keys') });
    expect((await newAgent(other, 'second')).statusCode).toBe(201);
    const overAgents = await newAgent(rt, 'third');
    expect(overAgents.statusCode).toBe(403);
    expect(overAgents.json().error.code).toBe('PLAN_LIMIT_REACHED');

    // Above the free plan's 10 keys: 20 concurrent creates over both runtimes end at exactly 12.
    expect((await patch(t.id, { limits: { maxKeys: 12 } })).statusCode).toBe(200);
    const runtimes = replica ? [rt, replica] : [rt];
    const codes = (await Promise.all(Array.from({ length: 20 }, (_, i) => newKey(runtimes[i % runtimes.length]!)))).map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(12 - 3);
    expect(await rt.backend.master.keys.countLive(t.id)).toBe(12);
    expect(PLAN_LIMITS.free.maxKeys).toBeLessThan(12);

    // Cleared: back to the plan's 2+ agents limit of 10.
    expect((await patch(t.id, { limits: { maxAgents: null } })).statusCode).toBe(200);
    expect((await newAgent(rt, 'third')).statusCode).toBe(201);
  }, 60_000);

  it('enforces a maxConcurrentCalls override', async () => {
    const t = await makeTenant('Concurrent', 'free', 'slow-model');
    expect((await patch(t.id, { limits: { maxConcurrentCalls: 1 } })).statusCode).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        rt.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key), payload: { content: `slow ${i}` } }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 429, 429]);
    expect(results.find((r) => r.statusCode === 429)?.json().error.message).toContain('allows 1 model calls at once');
  }, 30_000);

  it('a tenant key of any role cannot change limits: the same answer as for other operator routes', async () => {
    const t = await makeTenant('Self');
    for (const role of ['owner', 'admin', 'member', 'viewer'] as const) {
      const key = role === 'owner' ? t.key : await rt.createKey(t.id, role);
      const suspend = await rt.app.inject({ method: 'POST', url: `/api/tenants/${t.id}/suspend`, headers: bearer(key) });
      const res = await patch(t.id, { limits: { requestsPerMinute: 1_000_000 } }, bearer(key));
      expect(suspend.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBe(suspend.statusCode);
      expect(res.json().error.code).toBe(suspend.json().error.code);
      const bySlug = await patch(t.slug, { plan: 'enterprise' }, bearer(key));
      expect(bySlug.statusCode).toBe(suspend.statusCode);
    }
    const now = await rt.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() });
    expect(now.json()).toMatchObject({ plan: 'free', status: 'active', limits: { requestsPerMinute: { value: 60, source: 'plan' } } });
  });

  it('refuses bad values with 400 VALIDATION_FAILED and changes nothing', async () => {
    const t = await makeTenant('Bad');
    const bad: unknown[] = [
      { limits: { requestsPerMinute: 0 } },
      { limits: { requestsPerMinute: -5 } },
      { limits: { maxAgents: 1.5 } },
      { limits: { maxKeys: '10' } },
      { limits: { maxConcurrentCalls: true } },
      { limits: { requestsPerMinute: 1e12 } },
      { limits: { burst: 5 } },
      { limits: 5 },
      { plan: 'platinum' },
      { plan: null },
      { name: 'renamed' },
    ];
    for (const payload of bad) {
      const res = await patch(t.id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code, JSON.stringify(payload)).toBe('VALIDATION_FAILED');
    }
    const now = await rt.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() });
    for (const limit of Object.values(now.json().limits as Record<string, { source: string }>)) expect(limit.source).toBe('plan');
    expect((await rt.backend.master.audit.list({ limit: 200 }, t.id)).items.filter((e) => e.action === 'tenant.updated')).toHaveLength(0);
  });

  it('the CLI sets and clears overrides and refuses bad values', async () => {
    const t = await makeTenant('Cli');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), env: { ...env, AGENTIK_DATA_DIR: rt.config.dataDir } };
    expect(await runCli(['tenant', 'update', t.slug, '--rpm', '120000', '--max-keys', '50', '--plan', 'pro'], io as never)).toBe(0);
    const shown = JSON.parse(out.at(-1)!) as { plan: string; limits: Record<string, { value: number; source: string }> };
    expect(shown.plan).toBe('pro');
    expect(shown.limits.requestsPerMinute).toEqual({ value: 120_000, source: 'override' });
    expect(shown.limits.maxKeys).toEqual({ value: 50, source: 'override' });
    expect(await runCli(['tenant', 'update', t.id, '--rpm', 'none'], io as never)).toBe(0);
    expect(JSON.parse(out.at(-1)!).limits.requestsPerMinute).toEqual({ value: PLAN_LIMITS.pro.requestsPerMinute, source: 'plan' });
    for (const bad of ['0', '-1', '1.5', 'lots']) {
      expect(await runCli(['tenant', 'update', t.id, '--max-agents', bad], io as never)).toBe(2);
      expect(err.at(-1)).toContain('--max-agents');
    }
    expect(await runCli(['tenant', 'update', t.id], io as never)).toBe(2);
    expect(await runCli(['tenant', 'update', 'no-such-tenant', '--rpm', '5'], io as never)).toBe(1);
    const seen = await rt.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() });
    expect(seen.json().limits.maxKeys).toEqual({ value: 50, source: 'override' });
    const audit = await rt.backend.master.audit.list({ limit: 200 }, t.id);
    expect(audit.items.filter((e) => e.action === 'tenant.updated').map((e) => e.actor)).toEqual(['cli', 'cli']);
  });
  // Last: it closes the suite's runtime and restarts it on the same data.
  it('an override survives a restart', async () => {
    const t = await makeTenant('Restart');
    expect((await patch(t.id, { limits: { requestsPerMinute: 2, maxAgents: 42 } })).statusCode).toBe(200);
    await rt.app.close();
    const logStream = new Writable({ write: (_c, _e, cb) => cb() });
    const restarted = await buildApp({ config: rt.config, logStream });
    try {
      const res = await restarted.app.inject({ method: 'GET', url: `/api/tenants/${t.id}`, headers: rt.operator() });
      expect(res.json().limits).toMatchObject({ requestsPerMinute: { value: 2, source: 'override' }, maxAgents: { value: 42, source: 'override' } });
      await awayFromMinuteEdge();
      const ask = () => restarted.app.inject({ method: 'POST', url: `/api/agents/${t.agentId}/messages`, headers: bearer(t.key), payload: { content: 'hi' } });
      const codes = [(await ask()).statusCode, (await ask()).statusCode, (await ask()).statusCode];
      // On Postgres the count of this minute is in the database and survives the restart too.
      expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(1);
      expect(codes.at(-1)).toBe(429);
    } finally {
      await restarted.app.close();
    }
  }, 60_000);

});
