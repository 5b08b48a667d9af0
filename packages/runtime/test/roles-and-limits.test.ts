import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_LIMITS } from '@agentik/shared';
import { bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';

/**
 * Issue 12, items 6 and 7, on both backends. Revoking keys follows the issuing rule (nobody
 * revokes a key stronger than their own; a tenant key never revokes the last owner key), and the
 * plan limits on keys and agents hold under 40 concurrent creates, also when the creates are
 * spread over two runtimes sharing one Postgres database (two replicas).
 */

type Backend = 'sqlite' | 'postgres';

describe.each<Backend>(['sqlite', 'postgres'])('roles and plan limits (%s)', (backend) => {
  let db: TestDatabase | undefined;
  let rt: TestRuntime;
  /** A second runtime on the same database (Postgres only): another replica. */
  let replica: TestRuntime | undefined;

  beforeAll(async () => {
    let env: Record<string, string> = {};
    if (backend === 'postgres') {
      db = await createTestDatabase();
      env = { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_DATABASE_POOL_SIZE: '10', AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32) };
    }
    rt = await startTestRuntime({ ...env, AGENTIK_LOG_LEVEL: 'warn' });
    if (backend === 'postgres') replica = await startTestRuntime({ ...env, AGENTIK_LOG_LEVEL: 'warn' });
  }, 60_000);

  afterAll(async () => {
    await replica?.close();
    await rt?.close();
    await db?.drop();
  });

  async function keyRecord(key: string, tenantId: string) {
    const res = await rt.app.inject({ method: 'GET', url: '/api/keys?limit=200', headers: rt.operator(tenantId) });
    const list = res.json() as { data: { id: string; prefix: string; role: string; revokedAt: string | null }[] };
    const hit = list.data.find((k) => key.startsWith(k.prefix));
    if (!hit) throw new Error('key not listed');
    return hit;
  }

  const revoke = (id: string, headers: Record<string, string>) =>
    rt.app.inject({ method: 'DELETE', url: `/api/keys/${id}`, headers });

  it('an admin cannot revoke an owner key, nor a member an admin key: nobody revokes a key stronger than their own', async () => {
    const t = await rt.createTenant({ name: 'Roles' });
    const owner1 = await rt.createKey(t.id, 'owner');
    const owner2 = await rt.createKey(t.id, 'owner');
    const admin = await rt.createKey(t.id, 'admin');
    const admin2 = await rt.createKey(t.id, 'admin');
    const o1 = await keyRecord(owner1, t.id);
    const a2 = await keyRecord(admin2, t.id);

    const byAdmin = await revoke(o1.id, bearer(admin));
    expect(byAdmin.statusCode, byAdmin.body).toBe(403);
    expect(byAdmin.json().error.code).toBe('FORBIDDEN');
    expect((await keyRecord(owner1, t.id)).revokedAt).toBeNull();

    // An admin revokes another admin (same strength); an owner revokes an owner while another is left.
    expect((await revoke(a2.id, bearer(admin))).statusCode).toBe(204);
    expect((await revoke(o1.id, bearer(owner2))).statusCode).toBe(204);
    const still = await rt.app.inject({ method: 'GET', url: '/api/keys', headers: bearer(owner1) });
    expect(still.statusCode).toBe(401);
  });

  it('the last owner key cannot be revoked by a tenant key, only by the operator', async () => {
    const t = await rt.createTenant({ name: 'Last owner' });
    const owner = await rt.createKey(t.id, 'owner');
    const o = await keyRecord(owner, t.id);

    const self = await revoke(o.id, bearer(owner));
    expect(self.statusCode, self.body).toBe(403);
    expect(self.json().error.code).toBe('FORBIDDEN');
    expect((await keyRecord(owner, t.id)).revokedAt).toBeNull();

    // Two owners revoking each other at the same moment: exactly one revocation goes through.
    const second = await rt.createKey(t.id, 'owner');
    const s = await keyRecord(second, t.id);
    const [x, y] = await Promise.all([revoke(s.id, bearer(owner)), revoke(o.id, bearer(second))]);
    expect([x.statusCode, y.statusCode].sort()).toEqual([204, 403]);

    const survivor = x.statusCode === 204 ? owner : second;
    const sv = await keyRecord(survivor, t.id);
    expect((await revoke(sv.id, rt.operator(t.id))).statusCode).toBe(204);
  });

  it('40 concurrent key creates on a free tenant end at exactly the plan limit', async () => {
    const t = await rt.createTenant({ name: 'Key race', plan: 'free' });
    const runtimes = replica ? [rt, replica] : [rt];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runtimes[i % runtimes.length]!.app.inject({ method: 'POST', url: `/api/tenants/${t.id}/keys`, headers: rt.operator(), payload: { role: 'member' } }),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    const limit = PLAN_LIMITS.free.maxKeys;
    expect(codes.filter((c) => c === 201)).toHaveLength(limit);
    expect(codes.filter((c) => c === 403)).toHaveLength(40 - limit);
    for (const r of results.filter((x) => x.statusCode === 403)) expect(r.json().error.code).toBe('PLAN_LIMIT_REACHED');
    expect(await rt.backend.master.keys.countLive(t.id)).toBe(limit);
  });

  it('40 concurrent agent creates on a free tenant end at exactly the plan limit', async () => {
    const t = await rt.createTenant({ name: 'Agent race', plan: 'free' });
    const runtimes = replica ? [rt, replica] : [rt];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runtimes[i % runtimes.length]!.app.inject({
          method: 'POST',
          url: '/api/agents',
          headers: rt.operator(t.id),
          payload: { name: `agent-${i}`, systemPrompt: 'Be brief.', provider: 'ollama', model: 'llama3.2' },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    const limit = PLAN_LIMITS.free.maxAgents;
    expect(codes.filter((c) => c === 201), JSON.stringify(results.find((r) => r.statusCode >= 500)?.body)).toHaveLength(limit);
    expect(codes.filter((c) => c === 403)).toHaveLength(40 - limit);
    const list = await rt.app.inject({ method: 'GET', url: '/api/agents?limit=200', headers: rt.operator(t.id) });
    expect((list.json() as { data: unknown[] }).data).toHaveLength(limit);
  });
});
