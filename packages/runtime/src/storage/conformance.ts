import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../lib/ids.js';
import { UniqueViolation, type StorageBackend, type TenantStore, type TenantStoreHandle } from './port.js';
import type { AgentRecord, ApiKeyRecord, CostEventRecord, TenantRecord } from './records.js';

/**
 * THE storage contract: every adapter runs this suite unchanged (see sqlite.conformance.test.ts
 * and postgres.conformance.test.ts). Each test works on fresh ids, so tests share one backend.
 */
export interface ConformanceTarget {
  /** Opens a backend on empty storage (called once for the suite). */
  open(): Promise<StorageBackend>;
  /** Removes whatever `open` made (called after the backend was closed). */
  teardown?(): Promise<void>;
}

const T0 = Date.parse('2026-03-10T12:00:00Z');
const DAY = 86_400_000;
const PERIOD = '2026-03';

function tenantRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  const id = newId('tenant');
  return { id, slug: `s-${id.slice(-10)}`, name: 'Acme', owner: 'o@example.com', plan: 'free', status: 'active', createdAt: T0, deletedAt: null, limitOverrides: {}, ...overrides };
}

function keyRecord(tenantId: string | null, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = newId('key');
  return { id, tenantId, userId: null, role: tenantId === null ? 'operator' : 'owner', name: null, prefix: 'agk_x', hash: `h-${id}`, createdAt: T0, lastUsedAt: null, revokedAt: null, ...overrides };
}

function agentRecord(name: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    id: newId('agent'),
    name,
    description: null,
    systemPrompt: 'Be brief.',
    provider: 'ollama',
    model: 'llama3.2',
    temperature: 0.7,
    maxTokens: 256,
    tools: ['clock'],
    contextTokens: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function costEvent(agentId: string, overrides: Partial<CostEventRecord> = {}): CostEventRecord {
  return {
    id: newId('costEvent'),
    agentId,
    conversationId: null,
    messageId: null,
    provider: 'openai',
    model: 'gpt-4o',
    inputTokens: 10,
    outputTokens: 20,
    costUsd: 0.5,
    latencyMs: 12,
    outcome: 'ok',
    usageEstimated: false,
    usageAnomaly: null,
    createdAt: T0,
    ...overrides,
  };
}

/** Defines the conformance tests of one storage backend. */
export function defineStorageConformance(label: string, target: ConformanceTarget): void {
  describe(`storage conformance: ${label}`, () => {
    let backend: StorageBackend;
    const handles: TenantStoreHandle[] = [];

    /** A freshly provisioned tenant store. */
    const freshTenant = async (): Promise<{ id: string; store: TenantStore; handle: TenantStoreHandle }> => {
      const id = newId('tenant');
      await backend.provisionTenant(id);
      const handle = await backend.openTenant(id);
      handles.push(handle);
      return { id, store: handle.store, handle };
    };

    beforeAll(async () => {
      backend = await target.open();
    });
    afterAll(async () => {
      for (const h of handles) await h.close();
      await backend?.close();
      await target.teardown?.();
    });

    describe('master store', () => {
      it('stores tenants, finds them by id and live slug, and keeps tombstones', async () => {
        const t = tenantRecord();
        await backend.master.tenants.insert(t);
        expect(await backend.master.tenants.findById(t.id)).toEqual(t);
        expect(await backend.master.tenants.findLiveBySlug(t.slug)).toEqual(t);
        await expect(backend.master.tenants.insert(tenantRecord({ slug: t.slug }))).rejects.toBeInstanceOf(UniqueViolation);
        const deleted = await backend.master.tenants.setStatus(t.id, 'deleted', T0 + 5);
        expect(deleted).toMatchObject({ status: 'deleted', deletedAt: T0 + 5 });
        expect(await backend.master.tenants.findLiveBySlug(t.slug)).toBeUndefined();
        // A tombstone keeps its slug, and a new live tenant may take it.
        const again = tenantRecord({ slug: t.slug });
        await backend.master.tenants.insert(again);
        expect((await backend.master.tenants.findLiveBySlug(t.slug))?.id).toBe(again.id);
        expect(await backend.master.tenants.setStatus(newId('tenant'), 'suspended', T0)).toBeUndefined();
        const suspended = await backend.master.tenants.setStatus(again.id, 'suspended', T0 + 6);
        expect(suspended).toMatchObject({ status: 'suspended', deletedAt: null });
        await backend.master.tenants.insert(tenantRecord());
        const counts = await backend.master.tenants.countByStatus();
        for (const status of ['active', 'suspended', 'deleted'] as const) expect(counts[status]).toBeGreaterThanOrEqual(1);
      });

      it('updates a tenant\'s plan and limit overrides, which every read returns', async () => {
        const t = tenantRecord({ limitOverrides: { maxKeys: 3 } });
        await backend.master.tenants.insert(t);
        expect((await backend.master.tenants.findById(t.id))?.limitOverrides).toEqual({ maxKeys: 3 });
        const raised = await backend.master.tenants.update(t.id, { limitOverrides: { requestsPerMinute: 120_000, maxAgents: 7 } }, T0 + 1);
        expect(raised).toMatchObject({ plan: 'free', limitOverrides: { requestsPerMinute: 120_000, maxAgents: 7 } });
        const planned = await backend.master.tenants.update(t.id, { plan: 'enterprise' }, T0 + 2);
        expect(planned).toMatchObject({ plan: 'enterprise', limitOverrides: { requestsPerMinute: 120_000, maxAgents: 7 } });
        expect(await backend.master.tenants.findLiveBySlug(t.slug)).toEqual(planned);
        expect(await backend.master.transaction((tx) => tx.tenants.lock(t.id))).toEqual(planned);
        const cleared = await backend.master.tenants.update(t.id, { limitOverrides: {} }, T0 + 3);
        expect(cleared?.limitOverrides).toEqual({});
        expect(await backend.master.tenants.findById(t.id)).toEqual({ ...t, plan: 'enterprise', limitOverrides: {} });
        expect(await backend.master.tenants.update(newId('tenant'), { plan: 'pro' }, T0)).toBeUndefined();
      });

      it('pages tenants by id with a cursor, optionally by status', async () => {
        const mine = Array.from({ length: 5 }, () => tenantRecord({ status: 'suspended' }));
        for (const t of mine) await backend.master.tenants.insert(t);
        const seen: string[] = [];
        let after: string | undefined;
        do {
          const page = await backend.master.tenants.list({ after, limit: 2 }, 'suspended');
          expect(page.items.length).toBeLessThanOrEqual(2);
          for (const t of page.items) expect(t.status).toBe('suspended');
          seen.push(...page.items.map((t) => t.id));
          after = page.nextCursor ?? undefined;
        } while (after);
        expect(seen).toEqual([...seen].sort());
        expect(seen).toEqual(expect.arrayContaining(mine.map((t) => t.id)));
        const all = await backend.master.tenants.list({ limit: 1000 });
        expect(all.nextCursor).toBeNull();
      });

      it('ensures users by handle and records memberships', async () => {
        const t = tenantRecord();
        await backend.master.tenants.insert(t);
        const handle = `u-${newId('user')}@example.com`;
        const user = await backend.master.users.ensure(handle, newId('user'), T0);
        expect(await backend.master.users.ensure(handle, newId('user'), T0 + 1)).toEqual(user);
        expect(await backend.master.users.findById(user.id)).toEqual({ id: user.id, handle, createdAt: T0 });
        expect(await backend.master.users.findById(newId('user'))).toBeUndefined();
        await backend.master.memberships.add(user.id, t.id, 'viewer', T0);
        await backend.master.memberships.add(user.id, t.id, 'admin', T0);
        expect(await backend.master.memberships.tenantIdsOf(user.id)).toEqual([t.id]);
        expect(await backend.master.memberships.isMember(user.id, t.id)).toBe(true);
        expect(await backend.master.memberships.isMember(user.id, newId('tenant'))).toBe(false);
      });

      it('stores API keys by hash, lists them per owner and revokes only the owner’s', async () => {
        const a = tenantRecord();
        const b = tenantRecord();
        await backend.master.tenants.insert(a);
        await backend.master.tenants.insert(b);
        const keys = [keyRecord(a.id), keyRecord(a.id, { role: 'viewer', name: 'ci' }), keyRecord(a.id), keyRecord(b.id)];
        for (const k of keys) await backend.master.keys.insert(k);
        await expect(backend.master.keys.insert(keyRecord(a.id, { hash: keys[0]!.hash }))).rejects.toThrow();
        expect(await backend.master.keys.findByHash(keys[1]!.hash)).toEqual(keys[1]);
        const page1 = await backend.master.keys.list(a.id, { limit: 2 });
        const page2 = await backend.master.keys.list(a.id, { after: page1.nextCursor!, limit: 2 });
        expect([...page1.items, ...page2.items].map((k) => k.id)).toEqual(keys.slice(0, 3).map((k) => k.id).sort());
        expect(page2.nextCursor).toBeNull();
        expect(await backend.master.keys.countLive(a.id, 'viewer')).toBe(1);
        expect(await backend.master.keys.countLive(a.id, 'owner')).toBe(2);
        expect(await backend.master.keys.findLive(keys[1]!.id, a.id)).toEqual(keys[1]);
        expect(await backend.master.keys.findLive(keys[1]!.id, b.id)).toBeUndefined();
        expect(await backend.master.transaction((tx) => tx.tenants.lock(a.id))).toEqual(a);
        expect(await backend.master.transaction((tx) => tx.tenants.lock(newId('tenant')))).toBeUndefined();
        expect(await backend.master.keys.revoke(keys[3]!.id, a.id, T0)).toBe(false);
        expect(await backend.master.keys.revoke(keys[0]!.id, a.id, T0 + 1)).toBe(true);
        expect(await backend.master.keys.revoke(keys[0]!.id, a.id, T0 + 2)).toBe(false);
        expect((await backend.master.keys.findByHash(keys[0]!.hash))?.revokedAt).toBe(T0 + 1);
        expect(await backend.master.keys.findLive(keys[0]!.id, a.id)).toBeUndefined();
        expect(await backend.master.keys.countLive(a.id)).toBe(2);
        expect(await backend.master.keys.revokeAllOfTenant(a.id, T0 + 3)).toBe(2);
        expect(await backend.master.keys.countLive(a.id)).toBe(0);
        expect(await backend.master.keys.countLive(b.id)).toBe(1);
        await backend.master.keys.touch(keys[3]!.id, T0 + 9);
        expect((await backend.master.keys.findByHash(keys[3]!.hash))?.lastUsedAt).toBe(T0 + 9);
        const operator = keyRecord(null);
        await backend.master.keys.insert(operator);
        expect((await backend.master.keys.list(null, { limit: 200 })).items.map((k) => k.id)).toContain(operator.id);
        expect(await backend.master.keys.revoke(operator.id, a.id, T0)).toBe(false);
        expect(await backend.master.keys.revoke(operator.id, null, T0)).toBe(true);
      });

      it('reads a key with its tenant in one call: the tenant of a tenant key, none for an operator key', async () => {
        const a = tenantRecord({ limitOverrides: { requestsPerMinute: 7 } });
        await backend.master.tenants.insert(a);
        const key = keyRecord(a.id, { role: 'viewer' });
        const operator = keyRecord(null);
        await backend.master.keys.insert(key);
        await backend.master.keys.insert(operator);
        expect(await backend.master.keys.findByHashWithTenant(key.hash)).toEqual({ key, tenant: a });
        expect(await backend.master.keys.findByHashWithTenant(operator.hash)).toEqual({ key: operator, tenant: undefined });
        expect(await backend.master.keys.findByHashWithTenant('no-such-hash')).toBeUndefined();
        await backend.master.keys.revoke(key.id, a.id, T0 + 1);
        const suspended = await backend.master.tenants.setStatus(a.id, 'suspended', T0 + 2);
        expect(suspended?.status).toBe('suspended');
        expect(await backend.master.keys.findByHashWithTenant(key.hash)).toEqual({ key: { ...key, revokedAt: T0 + 1 }, tenant: suspended });
      });

      it('appends platform audit events and pages them, per tenant', async () => {
        const tenantId = newId('tenant');
        const events = Array.from({ length: 3 }, (_, i) => ({
          id: newId('audit'),
          at: T0 + i,
          actor: 'operator',
          action: 'tenant.created',
          tenantId,
          target: `tenant:${tenantId}`,
          details: { i, nested: { ok: true } },
        }));
        for (const e of events) await backend.master.audit.append(e);
        const first = await backend.master.audit.list({ limit: 2 }, tenantId);
        const rest = await backend.master.audit.list({ after: first.nextCursor!, limit: 2 }, tenantId);
        expect([...first.items, ...rest.items]).toEqual(events);
        expect(rest.nextCursor).toBeNull();
      });

      it('rolls a master transaction back as a whole', async () => {
        const t = tenantRecord();
        await expect(
          backend.master.transaction(async (tx) => {
            await tx.tenants.insert(t);
            await tx.transaction(async (inner) => inner.keys.insert(keyRecord(t.id)));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await backend.master.tenants.findById(t.id)).toBeUndefined();
      });

      it('a key or tenant read while a master transaction is open waits for it and sees only what it committed', async () => {
        const t = tenantRecord();
        const key = keyRecord(t.id);
        let inside!: () => void;
        const opened = new Promise<void>((resolve) => (inside = resolve));
        const failing = backend.master.transaction(async (tx) => {
          await tx.tenants.insert(t);
          await tx.keys.insert(key);
          inside();
          await new Promise((resolve) => setTimeout(resolve, 30));
          throw new Error('rolled back');
        });
        // Attach the expectation now: under load the reads below can outlast the 30 ms, and a
        // rejection with no handler yet is an unhandled rejection that fails the whole run.
        const rolledBack = expect(failing).rejects.toThrow('rolled back');
        await opened;
        const [tenant, found] = await Promise.all([backend.master.tenants.findById(t.id), backend.master.keys.findByHash(key.hash)]);
        await rolledBack;
        expect(tenant).toBeUndefined();
        expect(found).toBeUndefined();
        await backend.master.tenants.insert(t);
        await backend.master.keys.insert(key);
        expect(await backend.master.keys.findByHash(key.hash)).toEqual(key);
        expect(await backend.master.tenants.findById(t.id)).toEqual(t);
      });

      it('counts rate windows atomically, with the previous minute, and prunes old ones', async () => {
        const tenantId = newId('tenant');
        const w = backend.master.rateWindows;
        expect(await w.increment(tenantId, 100)).toEqual({ current: 1, previous: 0 });
        const counts = await Promise.all(Array.from({ length: 20 }, () => w.increment(tenantId, 101)));
        expect(counts.map((c) => c.current).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        for (const c of counts) expect(c.previous).toBe(1);
        await w.decrement(tenantId, 101);
        expect(await w.increment(tenantId, 101)).toEqual({ current: 20, previous: 1 });
        await w.prune(tenantId, 101);
        expect(await w.increment(tenantId, 101)).toEqual({ current: 21, previous: 0 });
        expect(await w.increment(newId('tenant'), 101)).toEqual({ current: 1, previous: 0 });
      });
    });

    describe('tenant stores', () => {
      it('provisions, opens and destroys a tenant store', async () => {
        const id = newId('tenant');
        expect(await backend.tenantExists(id)).toBe(false);
        await expect(backend.openTenant(id)).rejects.toThrow();
        await backend.provisionTenant(id);
        expect(await backend.tenantExists(id)).toBe(true);
        await expect(backend.provisionTenant(id)).rejects.toThrow();
        const handle = await backend.openTenant(id);
        await handle.store.agents.insert(agentRecord('kept'));
        await handle.close();
        // Closing a handle leaves the backend usable; reopening sees the data.
        const again = await backend.openTenant(id);
        expect(await again.store.agents.count()).toBe(1);
        await again.close();
        await backend.destroyTenant(id);
        expect(await backend.tenantExists(id)).toBe(false);
        await expect(backend.openTenant(id)).rejects.toThrow();
        // A new store under a new id starts empty.
        const fresh = await freshTenant();
        expect(await fresh.store.agents.count()).toBe(0);
      });

      it('keeps agents: insert, unique names, list pages, update, delete', async () => {
        const { store } = await freshTenant();
        const agents = ['alpha', 'beta', 'gamma'].map((n) => agentRecord(n));
        for (const a of agents) await store.agents.insert(a);
        expect(await store.agents.get(agents[0]!.id)).toEqual(agents[0]);
        expect(await store.agents.findByName('beta')).toEqual(agents[1]);
        await expect(store.agents.insert(agentRecord('alpha'))).rejects.toBeInstanceOf(UniqueViolation);
        const p1 = await store.agents.list({ limit: 2 });
        const p2 = await store.agents.list({ after: p1.nextCursor!, limit: 2 });
        expect([...p1.items, ...p2.items]).toEqual(agents);
        expect(p2.nextCursor).toBeNull();
        const updated = await store.agents.update(agents[0]!.id, { updatedAt: T0 + 1, name: 'alpha2', temperature: null, tools: [], contextTokens: 4096, description: 'd' });
        expect(updated).toEqual({ ...agents[0], name: 'alpha2', temperature: null, tools: [], contextTokens: 4096, description: 'd', updatedAt: T0 + 1 });
        await expect(store.agents.update(agents[0]!.id, { updatedAt: T0 + 2, name: 'beta' })).rejects.toBeInstanceOf(UniqueViolation);
        expect(await store.agents.update(newId('agent'), { updatedAt: T0 })).toBeUndefined();
        expect(await store.agents.delete(agents[1]!.id)).toBe(true);
        expect(await store.agents.delete(agents[1]!.id)).toBe(false);
        expect(await store.agents.count()).toBe(2);
      });

      it('keeps tenant stores apart', async () => {
        const a = await freshTenant();
        const b = await freshTenant();
        const agent = agentRecord('same-name');
        await a.store.agents.insert(agent);
        await b.store.agents.insert(agentRecord('same-name'));
        expect(await b.store.agents.get(agent.id)).toBeUndefined();
        expect(await b.store.agents.delete(agent.id)).toBe(false);
        expect(await a.store.agents.get(agent.id)).toEqual(agent);
        expect(await b.store.agents.count()).toBe(1);
      });

      it('appends tenant audit events and rolls tenant transactions back as a whole', async () => {
        const { store } = await freshTenant();
        const e = { id: newId('audit'), at: T0, actor: 'key:1', action: 'agent.created', target: null, details: { a: [1, 2] } };
        await store.audit.append(e);
        expect((await store.audit.list({ limit: 10 })).items).toEqual([e]);
        await expect(
          store.transaction(async (tx) => {
            await tx.agents.insert(agentRecord('ghost'));
            await tx.transaction(async (inner) => inner.audit.append({ ...e, id: newId('audit') }));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.agents.count()).toBe(0);
        expect((await store.audit.list({ limit: 10 })).items).toHaveLength(1);
        const n = await store.transaction(async (tx) => {
          const before = await tx.agents.countForInsert();
          await tx.agents.insert(agentRecord('real'));
          return [before, await tx.agents.count()];
        });
        expect(n).toEqual([0, 1]);
      });

      it('group transactions: concurrent work commits together, and one failure loses nobody else’s write', async () => {
        const { store } = await freshTenant();
        const taken = agentRecord('taken');
        await store.agents.insert(taken);
        const names = Array.from({ length: 12 }, (_, i) => `group-${i}`);
        const results = await Promise.allSettled(
          names.map((name, i) =>
            store.groupTransaction(async (tx) => {
              await tx.agents.insert(agentRecord(name));
              // The seventh unit collides with an existing name: its whole unit must vanish.
              if (i === 6) await tx.agents.insert({ ...agentRecord(taken.name), id: newId('agent') });
              await tx.audit.append({ id: newId('audit'), at: T0, actor: 'key:1', action: 'agent.created', target: name, details: {} });
              return name;
            }),
          ),
        );
        expect(results.map((r) => r.status)).toEqual(names.map((_, i) => (i === 6 ? 'rejected' : 'fulfilled')));
        expect((results[6] as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolation);
        expect((results[0] as PromiseFulfilledResult<string>).value).toBe('group-0');
        const stored = (await store.agents.list({ limit: 50 })).items.map((a) => a.name).sort();
        expect(stored).toEqual([taken.name, ...names.filter((_, i) => i !== 6)].sort());
        const audited = (await store.audit.list({ limit: 50 })).items.map((e) => e.target).sort();
        expect(audited).toEqual(names.filter((_, i) => i !== 6).sort());
        // Inside a transaction, group work simply joins it.
        await store.transaction(async (tx) => {
          await tx.groupTransaction(async (inner) => inner.agents.insert(agentRecord('nested')));
          expect(await tx.agents.findByName('nested')).toBeDefined();
        });
      });

      it('a read while another transaction is open never sees that transaction’s uncommitted writes', async () => {
        const { store } = await freshTenant();
        const agent = agentRecord('before');
        await store.agents.insert(agent);
        const conversationId = newId('conversation');
        let inside!: () => void;
        const opened = new Promise<void>((resolve) => (inside = resolve));
        const failing = store.transaction(async (tx) => {
          await tx.agents.update(agent.id, { name: 'uncommitted', updatedAt: T0 + 1 });
          await tx.conversations.create({ id: conversationId, agentId: agent.id, userId: null, source: 'api', createdAt: T0, updatedAt: T0 });
          inside();
          await new Promise((resolve) => setTimeout(resolve, 30));
          throw new Error('rolled back');
        });
        // Attach the expectation now: under load the reads below can outlast the 30 ms, and a
        // rejection with no handler yet is an unhandled rejection that fails the whole run.
        const rolledBack = expect(failing).rejects.toThrow('rolled back');
        await opened;
        // Issued while the transaction is open (between two of its awaits), answered after it ends.
        const [byId, byName, conversation] = await Promise.all([
          store.agents.get(agent.id),
          store.agents.findByName('uncommitted'),
          store.conversations.get(conversationId),
        ]);
        await rolledBack;
        expect(byId?.name).toBe('before');
        expect(byName).toBeUndefined();
        expect(conversation).toBeUndefined();
        expect(await store.messages.recent(conversationId, 5)).toEqual([]);
      });

      it('keeps conversations and messages, recent turns, and deletes them together', async () => {
        const { store } = await freshTenant();
        const agentId = newId('agent');
        const conv = { id: newId('conversation'), agentId, userId: 'end-user-1', source: 'api' as const, createdAt: T0, updatedAt: T0 };
        const other = { ...conv, id: newId('conversation'), agentId: newId('agent'), userId: null, source: 'openai' as const };
        await store.conversations.create(conv);
        await store.conversations.create(other);
        expect(await store.conversations.get(conv.id)).toEqual(conv);
        expect((await store.conversations.list({ limit: 10 }, agentId)).items).toEqual([conv]);
        expect((await store.conversations.list({ limit: 10 })).items).toHaveLength(2);
        const messages = Array.from({ length: 5 }, (_, i) => ({
          id: newId('message'),
          conversationId: conv.id,
          role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
          content: `turn ${i}`,
          tokens: i === 0 ? null : i * 3,
          createdAt: T0 + i,
        }));
        for (const m of messages) await store.messages.append(m);
        expect(await store.messages.listByConversation(conv.id)).toEqual(messages);
        expect(await store.messages.recent(conv.id, 2)).toEqual(messages.slice(3));
        await store.conversations.touch(conv.id, T0 + 99);
        expect((await store.conversations.get(conv.id))?.updatedAt).toBe(T0 + 99);
        expect(await store.conversations.delete(conv.id)).toBe(true);
        expect(await store.conversations.delete(conv.id)).toBe(false);
        expect(await store.messages.listByConversation(conv.id)).toEqual([]);
        expect(await store.conversations.get(other.id)).toEqual(other);
      });

      it('searches past messages by words, newest first, optionally within one agent', async () => {
        const { store } = await freshTenant();
        const agentA = newId('agent');
        const agentB = newId('agent');
        const convA = { id: newId('conversation'), agentId: agentA, userId: null, source: 'api' as const, createdAt: T0, updatedAt: T0 };
        const convB = { ...convA, id: newId('conversation'), agentId: agentB };
        await store.conversations.create(convA);
        await store.conversations.create(convB);
        const say = async (conversationId: string, content: string) => {
          const m = { id: newId('message'), conversationId, role: 'user' as const, content, tokens: null, createdAt: T0 };
          await store.messages.append(m);
          return m;
        };
        const m1 = await say(convA.id, 'The blue whale is the largest animal');
        await say(convA.id, 'Penguins live in the south');
        const m3 = await say(convB.id, 'A blue Whale song at night');
        const hits = await store.messages.search(['blue', 'whale'], undefined, 10);
        expect(hits.map((h) => h.messageId)).toEqual([m3.id, m1.id]);
        expect(hits[1]).toEqual({ messageId: m1.id, conversationId: convA.id, agentId: agentA, role: 'user', content: m1.content, createdAt: T0 });
        expect((await store.messages.search(['whale'], agentA, 10)).map((h) => h.messageId)).toEqual([m1.id]);
        expect(await store.messages.search(['whale'], undefined, 1)).toHaveLength(1);
        expect(await store.messages.search(['whale', 'penguins'], undefined, 10)).toEqual([]);
        expect(await store.messages.search([], undefined, 10)).toEqual([]);
        // Query syntax of either engine is just text here.
        for (const nasty of ['"', "'", 'OR', 'NOT', '*', '&', '|', '!', ':*', '(', ')', "'; drop table messages; --"]) {
          expect(await store.messages.search([nasty], undefined, 10)).toEqual([]);
        }
        await store.conversations.delete(convB.id);
        expect((await store.messages.search(['whale'], undefined, 10)).map((h) => h.messageId)).toEqual([m1.id]);
      });

      it('keeps each cost event\'s outcome (ok, aborted, failed), counts a failed run as a call, and refuses any other', async () => {
        const { store } = await freshTenant();
        const agent = newId('agent');
        const events = (['ok', 'aborted', 'failed'] as const).map((outcome, i) =>
          costEvent(agent, { createdAt: T0 + i, outcome, usageEstimated: outcome !== 'ok', costUsd: 0.5 }),
        );
        for (const e of events) await store.costs.insert(e);
        const range = { from: T0, to: T0 + DAY };
        expect((await store.costs.list({ limit: 10 }, range)).items).toEqual(events);
        const summary = await store.costs.summary(range, 'agent');
        expect(summary).toMatchObject({ calls: 3 });
        expect(summary.totalUsd).toBeCloseTo(1.5, 10);
        await expect(store.costs.insert(costEvent(agent, { createdAt: T0 + 5, outcome: 'lost' as never }))).rejects.toThrow();
        expect((await store.costs.list({ limit: 10 }, range)).items).toHaveLength(3);
      });

      it('records cost events, pages them by time and sums them by day, model and agent', async () => {
        const { store } = await freshTenant();
        const [a1, a2] = [newId('agent'), newId('agent')];
        const events = [
          costEvent(a1, { createdAt: T0 }),
          costEvent(a1, { createdAt: T0 + 1000, model: 'gpt-4o-mini', costUsd: 0.25, inputTokens: 1, outputTokens: 2 }),
          costEvent(a2, { createdAt: T0 + DAY, inputTokens: null, outputTokens: null, costUsd: null, outcome: 'aborted', usageEstimated: true }),
          costEvent(a2, { createdAt: T0 + DAY + 5, provider: 'ollama', model: 'llama3.2', costUsd: 0 }),
          costEvent(a2, { createdAt: T0 + 40 * DAY }),
        ];
        for (const e of events) await store.costs.insert(e);
        const range = { from: T0, to: T0 + 2 * DAY };
        const p1 = await store.costs.list({ limit: 3 }, range);
        const p2 = await store.costs.list({ after: p1.nextCursor!, limit: 3 }, range);
        expect([...p1.items, ...p2.items]).toEqual(events.slice(0, 4));
        const byDay = await store.costs.summary(range, 'day');
        expect(byDay).toMatchObject({ inputTokens: 21, outputTokens: 42, calls: 4 });
        expect(byDay.totalUsd).toBeCloseTo(0.75, 10);
        expect(byDay.groups.map((g) => [g.key, g.calls])).toEqual([
          ['2026-03-10', 2],
          ['2026-03-11', 2],
        ]);
        const byModel = await store.costs.summary(range, 'model');
        expect(byModel.groups.map((g) => g.key)).toEqual(['ollama/llama3.2', 'openai/gpt-4o', 'openai/gpt-4o-mini']);
        expect(byModel.groups[1]).toMatchObject({ key: 'openai/gpt-4o', calls: 2, inputTokens: 10, outputTokens: 20 });
        expect(byModel.groups[1]!.usd).toBeCloseTo(0.5, 10);
        const byAgent = await store.costs.summary(range, 'agent');
        expect(byAgent.groups.map((g) => [g.key, g.calls])).toEqual([
          [a1, 2],
          [a2, 2],
        ]);
        const empty = await store.costs.summary({ from: 0, to: 1 }, 'day');
        expect(empty).toEqual({ totalUsd: 0, inputTokens: 0, outputTokens: 0, calls: 0, groups: [] });
      });

      it('lists the cost events of one conversation only, oldest first', async () => {
        const { store } = await freshTenant();
        const agent = newId('agent');
        const [c1, c2] = [newId('conversation'), newId('conversation')];
        const mine = [
          costEvent(agent, { conversationId: c1, messageId: newId('message') }),
          costEvent(agent, { conversationId: c1, messageId: newId('message'), costUsd: null }),
        ];
        for (const e of [...mine, costEvent(agent, { conversationId: c2 }), costEvent(agent)]) await store.costs.insert(e);
        expect(await store.costs.listByConversation(c1)).toEqual(mine);
        expect(await store.costs.listByConversation(newId('conversation'))).toEqual([]);
      });

      it('budgets: defaults, configure, reserve under a hard limit, settle, soft limits', async () => {
        const { store } = await freshTenant();
        expect(await store.budget.get(PERIOD)).toEqual({
          monthlyLimitUsd: null,
          hard: true,
          thresholds: [50, 80, 100],
          period: PERIOD,
          spentUsd: 0,
          reservedUsd: 0,
          notified: [],
          // A budget nobody has touched yet: the row made by the migration.
          updatedAt: 0,
        });
        expect(await store.budget.reserve(1e6, PERIOD, T0)).toBe(true);
        await store.budget.settle(1e6, 0, PERIOD, T0);
        const configured = await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 90] }, PERIOD, T0 + 1);
        expect(configured).toMatchObject({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 90], spentUsd: 0, reservedUsd: 0 });
        expect(await store.budget.reserve(0.6, PERIOD, T0)).toBe(true);
        expect(await store.budget.reserve(0.6, PERIOD, T0)).toBe(false);
        const { before, after } = await store.budget.settle(0.6, 0.55, PERIOD, T0 + 2);
        expect(before).toBeCloseTo(0, 10);
        expect(after.spentUsd).toBeCloseTo(0.55, 10);
        expect(after.reservedUsd).toBeCloseTo(0, 10);
        expect(await store.budget.reserve(0.45, PERIOD, T0)).toBe(true);
        expect(await store.budget.reserve(0.01, PERIOD, T0)).toBe(false);
        // Settling more than was reserved never leaves a negative reservation.
        expect((await store.budget.settle(1, 0, PERIOD, T0)).after.reservedUsd).toBe(0);
        await store.budget.configure({ monthlyLimitUsd: 1, hard: false, thresholds: [100] }, PERIOD, T0 + 3);
        expect(await store.budget.reserve(5, PERIOD, T0)).toBe(true);
      });

      it('budgets: a new month starts at zero and notifications are per period', async () => {
        const { store } = await freshTenant();
        await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 80] }, PERIOD, T0);
        await store.budget.settle(0, 0.9, PERIOD, T0);
        await store.budget.markNotified([80], PERIOD);
        await store.budget.markNotified([50, 80], PERIOD);
        expect(await store.budget.get(PERIOD)).toMatchObject({ spentUsd: 0.9, notified: [50, 80] });
        await store.budget.markNotified([100], '2026-02');
        expect((await store.budget.get(PERIOD)).notified).toEqual([50, 80]);
        expect(await store.budget.get('2026-04')).toMatchObject({ period: '2026-04', spentUsd: 0, notified: [] });
        expect(await store.budget.reserve(0.9, '2026-04', T0 + DAY * 30)).toBe(true);
        const b = await store.budget.get('2026-04');
        expect(b).toMatchObject({ period: '2026-04', spentUsd: 0, notified: [] });
        expect(b.reservedUsd).toBeCloseTo(0.9, 10);
      });

      it('budgets: 50 concurrent reservations never pass a hard limit', async () => {
        const { store } = await freshTenant();
        await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [] }, PERIOD, T0);
        const results = await Promise.all(Array.from({ length: 50 }, () => store.budget.reserve(0.1, PERIOD, T0)));
        expect(results.filter(Boolean)).toHaveLength(10);
        const b = await store.budget.get(PERIOD);
        expect(b.reservedUsd).toBeLessThanOrEqual(1 + 1e-9);
        const settled = await Promise.all(Array.from({ length: 10 }, () => store.budget.settle(0.1, 0.1, PERIOD, T0)));
        expect(Math.max(...settled.map((s) => s.after.spentUsd))).toBeCloseTo(1, 9);
        expect(await store.budget.reserve(0.01, PERIOD, T0)).toBe(false);
      });

      it('keeps provider credentials, one per provider', async () => {
        const { store } = await freshTenant();
        await store.providerCredentials.put({ provider: 'openai', baseUrl: null, apiKeyCiphertext: 'v1:abc', updatedAt: T0 });
        await store.providerCredentials.put({ provider: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKeyCiphertext: null, updatedAt: T0 });
        await store.providerCredentials.put({ provider: 'openai', baseUrl: 'http://127.0.0.1:8', apiKeyCiphertext: 'v1:def', updatedAt: T0 + 1 });
        expect(await store.providerCredentials.get('openai')).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:8', apiKeyCiphertext: 'v1:def', updatedAt: T0 + 1 });
        expect((await store.providerCredentials.list()).map((c) => c.provider)).toEqual(['anthropic', 'openai']);
        expect(await store.providerCredentials.delete('openai')).toBe(true);
        expect(await store.providerCredentials.delete('openai')).toBe(false);
        expect(await store.providerCredentials.get('openai')).toBeUndefined();
      });

      it('reports itself ready with current migrations', async () => {
        const checks = await backend.readiness();
        expect(Object.keys(checks)).toContain('migrations');
        for (const check of Object.values(checks)) expect(check).toEqual({ ok: true });
      });
    });
  });
}
