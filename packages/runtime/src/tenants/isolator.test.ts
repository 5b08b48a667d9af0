import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '@agentik/shared';
import { newId } from '../lib/ids.js';
import { bearer, startTestRuntime, type TestRuntime } from '../test-support/harness.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface Answer {
  status: number;
  body: unknown;
}

const agentBody = (name: string) => ({ name, systemPrompt: `prompt of ${name}`, provider: 'ollama', model: 'llama3' });

let rt: TestRuntime;
/** Tenant A holds the data under attack; B is the attacker; both are plain active tenants. */
let A: { id: string; slug: string; key: string; agentId: string; spareKeyId: string };
let B: { id: string; slug: string; key: string; agentId: string };

async function call(method: Method, url: string, headers: Record<string, string>, payload?: unknown): Promise<Answer> {
  const res = await rt.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body === '' ? null : res.json() };
}

async function ok<T>(method: Method, url: string, headers: Record<string, string>, payload?: unknown): Promise<T> {
  const res = await call(method, url, headers, payload);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** Everything tenant A has, as A itself sees it. */
async function snapshotOfA() {
  const h = bearer(A.key);
  return {
    agents: await ok('GET', '/api/agents?limit=200', h),
    agent: await ok('GET', `/api/agents/${A.agentId}`, h),
    keys: await ok('GET', '/api/keys?limit=200', h),
    audit: await ok('GET', '/api/audit?limit=200', h),
  };
}

async function makeTenant(name: string, slug?: string) {
  const t = await rt.createTenant({ name, ...(slug ? { slug } : {}) });
  const key = await rt.createKey(t.id, 'owner');
  // The first use of a key records its last-used time; do it now so later snapshots are stable.
  await ok('GET', '/api/agents', bearer(key));
  await new Promise((r) => setTimeout(r, 20));
  return { ...t, key };
}

beforeAll(async () => {
  rt = await startTestRuntime();
  // Overlapping names: both tenants call themselves "Acme" and both have an agent named "support".
  const a = await makeTenant('Acme', 'acme-a');
  const b = await makeTenant('Acme', 'acme-b');
  const aAgent = await ok<{ id: string }>('POST', '/api/agents', bearer(a.key), agentBody('support'));
  const bAgent = await ok<{ id: string }>('POST', '/api/agents', bearer(b.key), agentBody('support'));
  const spare = await ok<{ id: string }>('POST', '/api/keys', bearer(a.key), { role: 'member', name: 'spare' });
  A = { ...a, agentId: aAgent.id, spareKeyId: spare.id };
  B = { ...b, agentId: bAgent.id };
});

afterAll(() => rt.close());

describe('tenant B cannot reach tenant A through any tenant route', () => {
  const ghostAgent = () => newId('agent');

  it.each<[string, Method, (id: string) => string, unknown]>([
    ['read an agent', 'GET', (id) => `/api/agents/${id}`, undefined],
    ['change an agent', 'PATCH', (id) => `/api/agents/${id}`, { name: 'hijacked', systemPrompt: 'leak everything' }],
    ['delete an agent', 'DELETE', (id) => `/api/agents/${id}`, undefined],
  ])('B trying to %s of A gets exactly the answer for an agent that never existed', async (_what, method, url, payload) => {
    const before = await snapshotOfA();
    const onA = await call(method, url(A.agentId), bearer(B.key), payload);
    const onGhost = await call(method, url(ghostAgent()), bearer(B.key), payload);
    expect(onA).toEqual(onGhost);
    expect(onA.status).toBe(404);
    expect(onA.body).toEqual({ error: { code: 'NOT_FOUND', message: 'agent not found' } });
    expect(await snapshotOfA()).toEqual(before);
  });

  it('B revoking a key of A gets the answer for a key that never existed, and A keeps its key', async () => {
    const before = await snapshotOfA();
    const onA = await call('DELETE', `/api/keys/${A.spareKeyId}`, bearer(B.key));
    const onGhost = await call('DELETE', `/api/keys/${newId('key')}`, bearer(B.key));
    expect(onA).toEqual(onGhost);
    expect(onA.status).toBe(404);
    expect(onA.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    // Not even A's own key id through the owner key of B.
    const onOwnerKey = await call('DELETE', `/api/keys/${A.spareKeyId}`, bearer(B.key));
    expect(onOwnerKey).toEqual(onGhost);
    expect(await snapshotOfA()).toEqual(before);
    const aKeys = (before.keys as { data: { id: string; revokedAt: string | null }[] }).data;
    expect(aKeys.find((k) => k.id === A.spareKeyId)?.revokedAt).toBeNull();
  });

  it('B listing agents, keys and audit sees only its own, and A writing more changes nothing B sees', async () => {
    const h = bearer(B.key);
    const lists = async () => ({
      agents: await ok<{ data: { id: string; name: string }[] }>('GET', '/api/agents?limit=200', h),
      keys: await ok<{ data: { id: string }[] }>('GET', '/api/keys?limit=200', h),
      audit: await ok<{ data: { target: string | null; actor: string }[] }>('GET', '/api/audit?limit=200', h),
    });
    const before = await lists();
    expect(before.agents.data.map((a) => a.id)).toEqual([B.agentId]);
    const aSnap = await snapshotOfA();
    const aKeyIds = (aSnap.keys as { data: { id: string }[] }).data.map((k) => k.id);
    expect(before.keys.data.some((k) => aKeyIds.includes(k.id))).toBe(false);
    expect(JSON.stringify(before.audit)).not.toContain(A.agentId);
    expect(JSON.stringify(before.audit)).not.toContain(A.spareKeyId);

    // A writes: a new agent, a key, an update; nothing of it may show up on B's side.
    const extra = await ok<{ id: string }>('POST', '/api/agents', bearer(A.key), agentBody('a-only'));
    await ok('PATCH', `/api/agents/${extra.id}`, bearer(A.key), { description: 'secret plans' });
    const aKey = await ok<{ id: string }>('POST', '/api/keys', bearer(A.key), { role: 'viewer' });
    const after = await lists();
    expect(after).toEqual(before);
    // And B cannot page into A's ids with a cursor either: it only skips within B's own list.
    const paged = await ok<{ data: { id: string }[] }>('GET', `/api/agents?cursor=${A.agentId}`, h);
    expect(paged.data.every((a) => a.id === B.agentId)).toBe(true);
    // Clean up A's extra writes through A.
    await ok('DELETE', `/api/agents/${extra.id}`, bearer(A.key));
    await ok('DELETE', `/api/keys/${aKey.id}`, bearer(A.key));
  });

  it('B creating an agent with the name A uses works (no conflict leaks A), and A is unchanged', async () => {
    // A writes in this test too, so its audit log legitimately grows; everything else must not move.
    const withoutAudit = async () => {
      const { audit: _audit, ...rest } = await snapshotOfA();
      return rest;
    };
    const before = await withoutAudit();
    const again = await call('POST', '/api/agents', bearer(B.key), agentBody('support'));
    // B has its own "support" already, so the conflict it gets is about its own agent.
    expect(again.status).toBe(409);
    const fresh = await call('POST', '/api/agents', bearer(B.key), agentBody('only-in-a'));
    await ok('POST', '/api/agents', bearer(A.key), agentBody('only-in-a-too'));
    const clash = await call('POST', '/api/agents', bearer(B.key), agentBody('only-in-a-too'));
    expect(fresh.status).toBe(201);
    expect(clash.status).toBe(201);
    const aAgents = await ok<{ data: { id: string; name: string }[] }>('GET', '/api/agents', bearer(A.key));
    expect(aAgents.data.map((a) => a.name).sort()).toEqual(['only-in-a-too', 'support']);
    const bAgents = await ok<{ data: { name: string }[] }>('GET', '/api/agents', bearer(B.key));
    expect(bAgents.data.map((a) => a.name).sort()).toEqual(['only-in-a', 'only-in-a-too', 'support']);
    // Remove what this test added so the other tests see the base state.
    for (const [key, list] of [
      [A.key, aAgents.data],
      [B.key, (await ok<{ data: { id: string; name: string }[] }>('GET', '/api/agents', bearer(B.key))).data],
    ] as const) {
      for (const agent of list) if (agent.name !== 'support') await ok('DELETE', `/api/agents/${agent.id}`, bearer(key));
    }
    expect(await withoutAudit()).toEqual(before);
    const aAudit = JSON.stringify((await snapshotOfA()).audit);
    expect(aAudit).not.toContain(B.agentId);
    expect(aAudit).not.toContain((fresh.body as { id: string }).id);
  });

  it('a key B creates works for B only, and A still has exactly its own keys', async () => {
    const before = await snapshotOfA();
    const created = await ok<{ id: string; key: string }>('POST', '/api/keys', bearer(B.key), { role: 'viewer' });
    expect((await call('GET', '/api/agents', bearer(created.key))).status).toBe(200);
    const crossing = await call('GET', '/api/agents', bearer(created.key, { 'x-tenant-id': A.id }));
    expect(crossing.status).toBe(404);
    expect(await snapshotOfA()).toEqual(before);
    await ok('DELETE', `/api/keys/${created.id}`, bearer(B.key));
  });
});

/** Every tenant route, with a valid body where it takes one. */
const TENANT_ROUTES: [Method, string, unknown][] = [
  ['GET', '/api/agents', undefined],
  ['POST', '/api/agents', agentBody('probe')],
  ['GET', '/api/agents/{agent}', undefined],
  ['PATCH', '/api/agents/{agent}', { description: 'x' }],
  ['DELETE', '/api/agents/{agent}', undefined],
  ['GET', '/api/keys', undefined],
  ['POST', '/api/keys', { role: 'viewer' }],
  ['DELETE', '/api/keys/{key}', undefined],
  ['GET', '/api/audit', undefined],
];
const routeUrl = (url: string) => url.replace('{agent}', A.agentId).replace('{key}', A.spareKeyId);

describe('X-Tenant-ID cannot name a tenant the key may not use', () => {
  it('answers a tenant key naming another, unknown, deleted, suspended or malformed tenant the same on every route', async () => {
    const suspended = await makeTenant('Sleeping');
    await ok('POST', `/api/tenants/${suspended.id}/suspend`, rt.operator());
    const deleted = await makeTenant('Gone');
    await ok('DELETE', `/api/tenants/${deleted.id}`, rt.operator());
    const refs = [
      A.id,
      A.slug,
      newId('tenant'),
      'never-existed',
      suspended.id,
      suspended.slug,
      deleted.id,
      deleted.slug,
      '../../etc/passwd',
      "' OR 1=1 --",
      'tn_../../master',
      'x'.repeat(500),
    ];
    const before = await snapshotOfA();
    for (const [method, url, payload] of TENANT_ROUTES) {
      const answers: Answer[] = [];
      for (const ref of refs) answers.push(await call(method, routeUrl(url), bearer(B.key, { 'x-tenant-id': ref }), payload));
      const first = answers[0]!;
      expect(first.status).toBe(404);
      expect(first.body).toEqual({
        error: { code: 'TENANT_NOT_FOUND', message: expect.any(String) },
      });
      for (const [i, answer] of answers.entries()) expect({ ref: refs[i], ...answer }).toEqual({ ref: refs[i], ...first });
    }
    expect(await snapshotOfA()).toEqual(before);
  });

  it('answers the operator naming an unknown, deleted, suspended or malformed tenant with the same 404', async () => {
    const suspended = await makeTenant('Napping');
    await ok('POST', `/api/tenants/${suspended.id}/suspend`, rt.operator());
    const deleted = await makeTenant('Removed');
    await ok('DELETE', `/api/tenants/${deleted.id}`, rt.operator());
    const answers = await Promise.all(
      [newId('tenant'), 'nope', suspended.id, suspended.slug, deleted.id, deleted.slug, '../../etc/passwd', "' OR 1=1 --"].map(
        (ref) => call('GET', '/api/agents', rt.operator(ref)),
      ),
    );
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]!.status).toBe(404);
    expect(answers[0]!.body).toMatchObject({ error: { code: 'TENANT_NOT_FOUND' } });
    // The keys of a suspended tenant get the same answer as well.
    expect(await call('GET', '/api/agents', bearer(suspended.key))).toEqual(answers[0]);
  });

  it('accepts a tenant key naming its own tenant, by id or by slug', async () => {
    for (const ref of [B.id, B.slug]) {
      const res = await ok<{ data: { id: string }[] }>('GET', '/api/agents', bearer(B.key, { 'x-tenant-id': ref }));
      expect(res.data.map((a) => a.id)).toEqual([B.agentId]);
    }
  });
});

describe('authentication', () => {
  it.each<[string, Record<string, string>]>([
    ['no Authorization header', {}],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['two tokens', { authorization: 'Bearer one two' }],
    ['an unknown key', { authorization: `Bearer agk_${'x'.repeat(43)}` }],
  ])('rejects %s with 401 UNAUTHENTICATED on every tenant route', async (_what, headers) => {
    for (const [method, url, payload] of TENANT_ROUTES) {
      const res = await call(method, routeUrl(url), { ...headers, 'x-tenant-id': A.id }, payload);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('rejects a revoked key with 401', async () => {
    const created = await ok<{ id: string; key: string }>('POST', '/api/keys', bearer(A.key), { role: 'member' });
    expect((await call('GET', '/api/agents', bearer(created.key))).status).toBe(200);
    await ok('DELETE', `/api/keys/${created.id}`, bearer(A.key));
    const res = await call('GET', '/api/agents', bearer(created.key));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('lets public routes through without a key', async () => {
    expect((await call('GET', '/health', {})).status).toBe(200);
  });
});

describe('operator keys', () => {
  it('must name a tenant on every tenant route: 400 TENANT_REQUIRED', async () => {
    for (const headers of [rt.operator(), { ...rt.operator(), 'x-tenant-id': '' }]) {
      for (const [method, url, payload] of TENANT_ROUTES) {
        const res = await call(method, routeUrl(url), headers, payload);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: { code: 'TENANT_REQUIRED' } });
      }
    }
  });

  it('reach the named tenant by id and by slug, and only that tenant', async () => {
    for (const ref of [A.id, A.slug]) {
      const list = await ok<{ data: { id: string }[] }>('GET', '/api/agents', rt.operator(ref));
      expect(list.data.map((a) => a.id)).toEqual([A.agentId]);
      const agent = await ok<{ id: string }>('GET', `/api/agents/${A.agentId}`, rt.operator(ref));
      expect(agent.id).toBe(A.agentId);
    }
    const viaB = await call('GET', `/api/agents/${A.agentId}`, rt.operator(B.id));
    expect(viaB.status).toBe(404);
  });

  it('are the only keys allowed on operator routes: a tenant key gets 403 FORBIDDEN', async () => {
    const attempts: [Method, string, unknown][] = [
      ['GET', '/api/tenants', undefined],
      ['POST', '/api/tenants', { name: 'Evil', owner: 'evil@example.com' }],
      ['GET', `/api/tenants/${A.id}`, undefined],
      ['DELETE', `/api/tenants/${A.id}`, undefined],
      ['POST', `/api/tenants/${A.id}/suspend`, undefined],
      ['POST', `/api/tenants/${B.id}/resume`, undefined],
      ['POST', `/api/tenants/${A.id}/keys`, { role: 'owner' }],
      ['POST', `/api/tenants/${B.id}/keys`, { role: 'owner' }],
    ];
    for (const [method, url, payload] of attempts) {
      const res = await call(method, url, bearer(B.key), payload);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    const tenant = await ok<{ status: string }>('GET', `/api/tenants/${A.id}`, rt.operator());
    expect(tenant.status).toBe('active');
    expect((await call('GET', '/api/agents', bearer(A.key))).status).toBe(200);
  });
});

describe('roles inside a tenant', () => {
  let T: { id: string; key: string };
  const keyOf: Partial<Record<Role, string>> = {};
  let agentId: string;

  beforeAll(async () => {
    T = await makeTenant('Roles');
    for (const role of ['admin', 'member', 'viewer'] as const) keyOf[role] = await rt.createKey(T.id, role);
    agentId = (await ok<{ id: string }>('POST', '/api/agents', bearer(T.key), agentBody('shared'))).id;
  });

  it('a viewer can read agents but not create, change or delete them', async () => {
    const h = bearer(keyOf.viewer!);
    expect((await call('GET', '/api/agents', h)).status).toBe(200);
    expect((await call('GET', `/api/agents/${agentId}`, h)).status).toBe(200);
    for (const [method, url, payload] of [
      ['POST', '/api/agents', agentBody('viewer-made')],
      ['PATCH', `/api/agents/${agentId}`, { name: 'renamed' }],
      ['DELETE', `/api/agents/${agentId}`, undefined],
    ] as [Method, string, unknown][]) {
      const res = await call(method, url, h, payload);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    const agent = await ok<{ name: string }>('GET', `/api/agents/${agentId}`, bearer(T.key));
    expect(agent.name).toBe('shared');
    const list = await ok<{ data: unknown[] }>('GET', '/api/agents', bearer(T.key));
    expect(list.data).toHaveLength(1);
  });

  it('a viewer and a member cannot list or create keys, nor read the audit log', async () => {
    for (const role of ['viewer', 'member'] as const) {
      for (const [method, url, payload] of [
        ['GET', '/api/keys', undefined],
        ['POST', '/api/keys', { role: 'viewer' }],
        ['GET', '/api/audit', undefined],
      ] as [Method, string, unknown][]) {
        const res = await call(method, url, bearer(keyOf[role]!), payload);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
      }
    }
  });

  it('a member can create agents', async () => {
    const res = await call('POST', '/api/agents', bearer(keyOf.member!), agentBody('member-made'));
    expect(res.status).toBe(201);
    await ok('DELETE', `/api/agents/${(res.body as { id: string }).id}`, bearer(keyOf.member!));
  });

  it('an admin can issue admin and weaker keys but not an owner key', async () => {
    const h = bearer(keyOf.admin!);
    const owner = await call('POST', '/api/keys', h, { role: 'owner' });
    expect(owner.status).toBe(403);
    expect(owner.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    for (const role of ['admin', 'viewer'] as const) {
      const res = await call('POST', '/api/keys', h, { role });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ role });
    }
    const keys = await ok<{ data: { role: string }[] }>('GET', '/api/keys?limit=200', bearer(T.key));
    expect(keys.data.filter((k) => k.role === 'owner')).toHaveLength(1);
  });

  it('an owner can issue an owner key', async () => {
    const res = await call('POST', '/api/keys', bearer(T.key), { role: 'owner' });
    expect(res.status).toBe(201);
  });
});

describe('the tenant context', () => {
  it.each<[string, Method, string, unknown, number]>([
    ['a successful read', 'GET', '/api/agents', undefined, 200],
    ['a successful write', 'POST', '/api/agents', agentBody('ctx'), 201],
    ['a 404 from the route', 'GET', '/api/agents/{ghost}', undefined, 404],
    ['a body that fails validation', 'POST', '/api/agents', { name: 1 }, 400],
    ['a role refusal before the store is needed', 'POST', '/api/keys', { role: 'owner' }, 403],
  ])('is released after %s, so evicting the tenant closes its store at once', async (_what, method, url, payload, status) => {
    const t = await makeTenant('Lease');
    const key = url === '/api/keys' ? await rt.createKey(t.id, 'admin') : t.key;
    const res = await call(method, url.replace('{ghost}', newId('agent')), bearer(key), payload);
    expect(res.status).toBe(status);
    const size = rt.pool.stats().size;
    await rt.pool.evict(t.id);
    expect(rt.pool.stats().size).toBe(size - 1);
  });

  it('gives concurrent requests of different tenants their own stores', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const t = i % 2 === 0 ? A : B;
        return ok<{ data: { id: string }[] }>('GET', '/api/agents', bearer(t.key)).then((r) => [t.agentId, r] as const);
      }),
    );
    for (const [expected, r] of results) expect(r.data.map((a) => a.id)).toEqual([expected]);
  });
});
