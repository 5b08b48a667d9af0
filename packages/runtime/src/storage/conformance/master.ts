import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { UniqueViolation, type StorageBackend } from '../port.js';
import { T0, tenantRecord, keyRecord, type ConformanceSuite } from './fixtures.js';

/** The master store: tenants, users and memberships, API keys (with their tenant), platform audit, rate windows. */
export function defineMasterConformance(suite: ConformanceSuite): void {
  describe('master store', () => {
    let backend: StorageBackend;
    beforeAll(() => {
      backend = suite.backend();
    });

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
}
