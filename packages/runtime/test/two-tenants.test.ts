import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, AuditEvent, CreatedKey, KeySummary, Tenant } from '@agentik/shared';
import { bearer, startTestServer, type TestServer } from '../src/test-support/harness.js';

/**
 * Two tenants with the same display name and the same agent names, driven through the real
 * listening server with fetch: everything one does must stay invisible to the other.
 */

const OPERATOR_KEY = 'agk_two_tenants_operator_key_0123456789abcdef';

interface Res<T = unknown> {
  status: number;
  body: T;
}

let server: TestServer;

async function call<T = unknown>(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<Res<T>> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

const agentBody = (name: string, model: string) => ({
  name,
  description: `${name} agent`,
  systemPrompt: `You are the ${name} agent.`,
  provider: 'ollama',
  model,
  temperature: 0.2,
  maxTokens: 256,
});

/** One tenant as seen by the test: how to reach it two ways, and what it made. */
interface Side {
  tenant: Tenant;
  ownerKey: string;
  viaKey: Record<string, string>;
  viaOperator: Record<string, string>;
  agents: Record<string, Agent>;
}

let a: Side;
let b: Side;

async function makeSide(body: Record<string, unknown>, operatorRef: (t: Tenant) => string): Promise<Side> {
  const created = await call<Tenant>('POST', '/api/tenants', server.operator(), body);
  expect(created.status).toBe(201);
  const issued = await call<CreatedKey>('POST', `/api/tenants/${created.body.id}/keys`, server.operator(), { role: 'owner', name: 'owner' });
  expect(issued.status).toBe(201);
  return {
    tenant: created.body,
    ownerKey: issued.body.key,
    viaKey: bearer(issued.body.key),
    viaOperator: server.operator(operatorRef(created.body)),
    agents: {},
  };
}

const names = (list: Agent[]) => list.map((x) => x.name).sort();

beforeAll(async () => {
  server = await startTestServer({ AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: OPERATOR_KEY });
  // Same display name; B gets a derived slug. A is reached by id, B by slug via the operator.
  a = await makeSide({ name: 'Acme', slug: 'acme', owner: 'alice@acme.test', plan: 'pro' }, (t) => t.id);
  b = await makeSide({ name: 'Acme', owner: 'alice@acme.test' }, (t) => t.slug);
});

afterAll(async () => {
  await server.close();
});

describe('two tenants through the real HTTP server', () => {
  it('gives tenants with the same name distinct ids and slugs', () => {
    expect(a.tenant.name).toBe(b.tenant.name);
    expect(a.tenant.id).not.toBe(b.tenant.id);
    expect(a.tenant.slug).toBe('acme');
    expect(b.tenant.slug).toMatch(/^acme-[0-9a-z]+$/);
  });

  it('creates agents with the same names in both tenants, by tenant key and by operator + X-Tenant-ID', async () => {
    for (const side of [a, b]) {
      const support = await call<Agent>('POST', '/api/agents', side.viaKey, agentBody('support', `model-${side.tenant.slug}`));
      expect(support.status).toBe(201);
      const billing = await call<Agent>('POST', '/api/agents', side.viaOperator, agentBody('billing', 'shared-model'));
      expect(billing.status).toBe(201);
      side.agents.support = support.body;
      side.agents.billing = billing.body;
    }
    const sales = await call<Agent>('POST', '/api/agents', a.viaKey, agentBody('sales', 'm'));
    expect(sales.status).toBe(201);
    a.agents.sales = sales.body;
    // Agent names are unique inside a tenant, not across tenants.
    const dup = await call<{ error: { code: string } }>('POST', '/api/agents', b.viaOperator, agentBody('support', 'm'));
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('CONFLICT');
  });

  it('lists only the own agents, both ways of reaching the tenant agreeing', async () => {
    for (const [side, expected] of [
      [a, ['billing', 'sales', 'support']],
      [b, ['billing', 'support']],
    ] as const) {
      for (const headers of [side.viaKey, side.viaOperator]) {
        const list = await call<{ data: Agent[]; nextCursor: string | null }>('GET', '/api/agents', headers);
        expect(list.status).toBe(200);
        expect(names(list.body.data)).toEqual(expected);
        expect(list.body.data.map((x) => x.id).sort()).toEqual(Object.values(side.agents).map((x) => x.id).sort());
        expect(list.body.nextCursor).toBeNull();
      }
    }
    const aIds = new Set(Object.values(a.agents).map((x) => x.id));
    expect(Object.values(b.agents).some((x) => aIds.has(x.id))).toBe(false);
  });

  it("answers another tenant's agent id exactly like an id that never existed", async () => {
    const never = 'ag_00000000000000000000000000';
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const foreign = to.agents.support!.id;
      for (const headers of [from.viaKey, from.viaOperator]) {
        const missing = await call('GET', `/api/agents/${never}`, headers);
        const read = await call('GET', `/api/agents/${foreign}`, headers);
        expect(read).toEqual(missing);
        expect(read.status).toBe(404);
        expect((read.body as { error: { code: string } }).error.code).toBe('NOT_FOUND');

        const patchMissing = await call('PATCH', `/api/agents/${never}`, headers, { name: 'hijacked' });
        const patch = await call('PATCH', `/api/agents/${foreign}`, headers, { name: 'hijacked' });
        expect(patch).toEqual(patchMissing);
        expect(patch.status).toBe(404);

        const delMissing = await call('DELETE', `/api/agents/${never}`, headers);
        const del = await call('DELETE', `/api/agents/${foreign}`, headers);
        expect(del).toEqual(delMissing);
        expect(del.status).toBe(404);
      }
      // The target agent is untouched.
      const own = await call<Agent>('GET', `/api/agents/${foreign}`, to.viaKey);
      expect(own.status).toBe(200);
      expect(own.body).toEqual(to.agents.support);
    }
  });

  it('updates in one tenant do not change the same-named agent of the other', async () => {
    const patched = await call<Agent>('PATCH', `/api/agents/${a.agents.support!.id}`, a.viaOperator, {
      systemPrompt: 'A only',
      temperature: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'support', systemPrompt: 'A only', temperature: null });
    const readBack = await call<Agent>('GET', `/api/agents/${a.agents.support!.id}`, a.viaKey);
    expect(readBack.body).toEqual(patched.body);
    a.agents.support = patched.body;

    const other = await call<Agent>('GET', `/api/agents/${b.agents.support!.id}`, b.viaKey);
    expect(other.body).toEqual(b.agents.support);
    expect(other.body.systemPrompt).toBe('You are the support agent.');

    // Renaming B's billing to "sales" is fine in B even though A has a "sales".
    const renamed = await call<Agent>('PATCH', `/api/agents/${b.agents.billing!.id}`, b.viaKey, { name: 'sales' });
    expect(renamed.status).toBe(200);
    b.agents.billing = renamed.body;
    expect((await call<Agent>('GET', `/api/agents/${a.agents.sales!.id}`, a.viaKey)).body).toEqual(a.agents.sales);
  });

  it("rejects a tenant key naming the other tenant, like an unknown tenant", async () => {
    for (const ref of [b.tenant.id, b.tenant.slug]) {
      const crossed = await call('GET', '/api/agents', { ...a.viaKey, 'x-tenant-id': ref });
      const unknown = await call('GET', '/api/agents', { ...a.viaKey, 'x-tenant-id': 'no-such-tenant' });
      expect(crossed).toEqual(unknown);
      expect(crossed.status).toBe(404);
      expect((crossed.body as { error: { code: string } }).error.code).toBe('TENANT_NOT_FOUND');
    }
    // Naming its own tenant is allowed.
    expect((await call('GET', '/api/agents', { ...a.viaKey, 'x-tenant-id': a.tenant.slug })).status).toBe(200);
    // Operator routes stay closed to tenant keys.
    expect((await call('GET', `/api/tenants/${b.tenant.id}`, a.viaKey)).status).toBe(403);
  });

  it('keeps keys apart: create, list and revoke in each, no crossing', async () => {
    const made: Record<string, CreatedKey> = {};
    for (const [label, side, headers] of [
      ['a-key', a, a.viaKey],
      ['b-op', b, b.viaOperator],
    ] as const) {
      const res = await call<CreatedKey>('POST', '/api/keys', headers, { role: 'member', name: 'shared-name' });
      expect(res.status).toBe(201);
      expect(res.body.role).toBe('member');
      made[label] = res.body;
      // The new member key works in its own tenant and sees its own agents.
      const list = await call<{ data: Agent[] }>('GET', '/api/agents', bearer(res.body.key));
      expect(names(list.body.data)).toEqual(names(Object.values(side.agents)));
    }
    const aKeys = await call<{ data: KeySummary[] }>('GET', '/api/keys', a.viaOperator);
    const bKeys = await call<{ data: KeySummary[] }>('GET', '/api/keys', b.viaKey);
    expect(aKeys.status).toBe(200);
    const aIds = aKeys.body.data.map((k) => k.id);
    const bIds = bKeys.body.data.map((k) => k.id);
    expect(aIds).toContain(made['a-key']!.id);
    expect(aIds).not.toContain(made['b-op']!.id);
    expect(bIds).toContain(made['b-op']!.id);
    expect(bIds).not.toContain(made['a-key']!.id);
    expect(aKeys.body.data).toHaveLength(2);
    expect(JSON.stringify(aKeys.body)).not.toContain(made['a-key']!.key);

    // B cannot revoke A's key, in either way of reaching B; the answer matches a made-up id.
    for (const headers of [b.viaKey, b.viaOperator]) {
      const missing = await call('DELETE', '/api/keys/key_00000000000000000000000000', headers);
      const foreign = await call('DELETE', `/api/keys/${made['a-key']!.id}`, headers);
      expect(foreign).toEqual(missing);
      expect(foreign.status).toBe(404);
    }
    expect((await call('GET', '/api/agents', bearer(made['a-key']!.key))).status).toBe(200);

    // Each revokes its own.
    expect((await call('DELETE', `/api/keys/${made['a-key']!.id}`, a.viaOperator)).status).toBe(204);
    expect((await call('DELETE', `/api/keys/${made['b-op']!.id}`, b.viaKey)).status).toBe(204);
    for (const k of Object.values(made)) {
      const res = await call<{ error: { code: string } }>('GET', '/api/agents', bearer(k.key));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    const aAfter = await call<{ data: KeySummary[] }>('GET', '/api/keys', a.viaKey);
    expect(aAfter.body.data.find((k) => k.id === made['a-key']!.id)?.revokedAt).not.toBeNull();
    // Owner keys are unaffected by the other revocations.
    expect((await call('GET', '/api/agents', b.viaKey)).status).toBe(200);
  });

  it('keeps the audit logs separate', async () => {
    const audit = async (side: Side) => {
      const res = await call<{ data: AuditEvent[] }>('GET', '/api/audit?limit=200', side.viaKey);
      expect(res.status).toBe(200);
      return res.body.data;
    };
    const aLog = await audit(a);
    const bLog = await audit(b);
    const targets = (log: AuditEvent[]) => new Set(log.map((e) => e.target));
    for (const agent of Object.values(a.agents)) expect(targets(aLog)).toContain(`agent:${agent.id}`);
    for (const agent of Object.values(b.agents)) expect(targets(bLog)).toContain(`agent:${agent.id}`);
    const aText = JSON.stringify(aLog);
    const bText = JSON.stringify(bLog);
    for (const agent of Object.values(a.agents)) expect(bText).not.toContain(agent.id);
    for (const agent of Object.values(b.agents)) expect(aText).not.toContain(agent.id);
    expect(aLog.filter((e) => e.action === 'agent.created')).toHaveLength(3);
    expect(bLog.filter((e) => e.action === 'agent.created')).toHaveLength(2);
    expect(aLog.filter((e) => e.action === 'agent.updated')).toHaveLength(1);
    expect(bLog.filter((e) => e.action === 'agent.updated')).toHaveLength(1);
    expect(aLog.filter((e) => e.action === 'key.revoked')).toHaveLength(1);
    expect(bLog.filter((e) => e.action === 'key.revoked')).toHaveLength(1);
  });

  it('deletes in one tenant without touching the other, and a deleted tenant takes nothing with it', async () => {
    expect((await call('DELETE', `/api/agents/${a.agents.support!.id}`, a.viaKey)).status).toBe(204);
    expect((await call('GET', `/api/agents/${a.agents.support!.id}`, a.viaKey)).status).toBe(404);
    expect((await call('GET', `/api/agents/${b.agents.support!.id}`, b.viaKey)).body).toEqual(b.agents.support);

    expect((await call('DELETE', `/api/tenants/${a.tenant.id}`, server.operator())).status).toBe(204);
    const gone = await call<{ error: { code: string } }>('GET', '/api/agents', a.viaKey);
    expect(gone.status).toBe(401);
    const byOperator = await call<{ error: { code: string } }>('GET', '/api/agents', a.viaOperator);
    expect(byOperator.status).toBe(404);
    expect(byOperator.body.error.code).toBe('TENANT_NOT_FOUND');

    const bList = await call<{ data: Agent[] }>('GET', '/api/agents', b.viaOperator);
    expect(names(bList.body.data)).toEqual(['sales', 'support']);

    // The slug is free again, and the new tenant starts empty.
    const again = await call<Tenant>('POST', '/api/tenants', server.operator(), { name: 'Acme', slug: 'acme', owner: 'x@acme.test' });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(a.tenant.id);
    const fresh = await call<{ data: Agent[] }>('GET', '/api/agents', server.operator('acme'));
    expect(fresh.body.data).toEqual([]);
  });
});
