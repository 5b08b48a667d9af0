import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../lib/ids.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../storage/migrations.js';
import type { StorageBackend, TenantStore, TenantStoreHandle } from '../storage/port.js';
import { openSqliteBackend } from '../storage/sqlite/backend.js';
import { TenantPool } from './pool.js';

/**
 * The pool over real SQLite tenant stores. The open function only wraps the backend's own
 * `openTenant` to count opens and closes per tenant.
 */
interface Rig {
  backend: StorageBackend;
  pool: TenantPool;
  opens: string[];
  closes: string[];
  closeErrors: unknown[];
  tenants: string[];
}

let dataDir: string;
let rig: Rig;

async function makeRig(capacity: number, tenantCount: number): Promise<Rig> {
  const backend = openSqliteBackend({ dataDir, migrations: loadMigrationSets(defaultMigrationsRoot('sqlite')) });
  const tenants: string[] = [];
  for (let i = 0; i < tenantCount; i++) {
    const id = newId('tenant');
    await backend.provisionTenant(id);
    tenants.push(id);
  }
  const opens: string[] = [];
  const closes: string[] = [];
  const closeErrors: unknown[] = [];
  const open = async (tenantId: string): Promise<TenantStoreHandle> => {
    opens.push(tenantId);
    const handle = await backend.openTenant(tenantId);
    return {
      store: handle.store,
      close: async () => {
        closes.push(tenantId);
        await handle.close();
      },
    };
  };
  const pool = new TenantPool(open, capacity, (_id, error) => closeErrors.push(error));
  return { backend, pool, opens, closes, closeErrors, tenants };
}

/** Proves a store is usable by writing to it and reading the write back. */
async function usable(store: TenantStore): Promise<boolean> {
  const id = newId('audit');
  await store.audit.append({ id, at: Date.now(), actor: 'test', action: 'probe', target: null, details: {} });
  const page = await store.audit.list({ limit: 1000 });
  return page.items.some((e) => e.id === id);
}

/** Acquires and releases at once, as a short request would. */
async function touch(pool: TenantPool, tenantId: string): Promise<void> {
  const lease = await pool.acquire(tenantId);
  lease.release();
}

const count = (list: string[], id: string) => list.filter((x) => x === id).length;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-pool-'));
});

afterEach(async () => {
  await rig.pool.closeAll();
  await rig.backend.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('TenantPool', () => {
  it('opens a store lazily on first use and reuses it afterwards', async () => {
    rig = await makeRig(4, 1);
    const [t] = rig.tenants as [string];
    expect(rig.opens).toEqual([]);
    const lease = await rig.pool.acquire(t);
    expect(await usable(lease.store)).toBe(true);
    lease.release();
    await touch(rig.pool, t);
    await touch(rig.pool, t);
    expect(rig.opens).toEqual([t]);
    expect(rig.pool.stats()).toEqual({ size: 1, capacity: 4, evictions: 0 });
  });

  it('evicts the least recently used store, not the least recently opened one', async () => {
    rig = await makeRig(2, 3);
    const [a, b, c] = rig.tenants as [string, string, string];
    await touch(rig.pool, a);
    await touch(rig.pool, b);
    await touch(rig.pool, a); // a is now the most recently used
    await touch(rig.pool, c); // over capacity: b goes
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([b]);
    expect(rig.opens).toEqual([a, b, c]);
  });

  it('keeps the recently used stores open and reopens an evicted one on demand', async () => {
    rig = await makeRig(2, 3);
    const [a, b, c] = rig.tenants as [string, string, string];
    await touch(rig.pool, a);
    await touch(rig.pool, b);
    await touch(rig.pool, a);
    await touch(rig.pool, c);
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([b]);
    expect(rig.pool.stats()).toMatchObject({ size: 2, evictions: 1 });
    await touch(rig.pool, a); // still pooled: no new open
    expect(count(rig.opens, a)).toBe(1);
    await touch(rig.pool, b); // evicted: opens again, and now c is the oldest
    expect(count(rig.opens, b)).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([b, c]);
  });

  it('never holds more than its capacity open: 10 tenants through a pool of 3', async () => {
    rig = await makeRig(3, 10);
    let maxOpen = 0;
    for (const t of rig.tenants) {
      const lease = await rig.pool.acquire(t);
      expect(await usable(lease.store)).toBe(true);
      lease.release();
      await new Promise((r) => setImmediate(r));
      maxOpen = Math.max(maxOpen, rig.opens.length - rig.closes.length);
      expect(rig.pool.stats().size).toBeLessThanOrEqual(3);
    }
    expect(maxOpen).toBeLessThanOrEqual(3);
    expect(rig.pool.stats()).toEqual({ size: 3, capacity: 3, evictions: 7 });
    // The seven oldest were closed, in the order they were used.
    expect(rig.closes).toEqual(rig.tenants.slice(0, 7));
    expect(rig.closeErrors).toEqual([]);
  });

  it('closes an evicted handle for real: its store can no longer be used', async () => {
    rig = await makeRig(1, 2);
    const [a, b] = rig.tenants as [string, string];
    const leaseA = await rig.pool.acquire(a);
    const storeA = leaseA.store;
    leaseA.release();
    await touch(rig.pool, b);
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([a]);
    await expect(storeA.agents.count()).rejects.toThrow();
  });

  it('keeps a leased store open while evicted, and closes it when the lease is released', async () => {
    rig = await makeRig(1, 2);
    const [a, b] = rig.tenants as [string, string];
    const leaseA = await rig.pool.acquire(a);
    await touch(rig.pool, b); // capacity 1: a is evicted while in use
    await new Promise((r) => setImmediate(r));
    expect(rig.pool.stats().evictions).toBe(1);
    expect(rig.closes).toEqual([]);
    expect(rig.pool.stats().size).toBe(2); // b, plus a still in use
    expect(await usable(leaseA.store)).toBe(true);
    leaseA.release();
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([a]);
    expect(rig.pool.stats().size).toBe(1);
    // Releasing twice must not close it again or skew the counts.
    leaseA.release();
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([a]);
    expect(rig.pool.stats().size).toBe(1);
  });

  it('evict() of a leased store waits for the last of several leases', async () => {
    rig = await makeRig(4, 1);
    const [a] = rig.tenants as [string];
    const first = await rig.pool.acquire(a);
    const second = await rig.pool.acquire(a);
    await rig.pool.evict(a);
    expect(rig.closes).toEqual([]);
    first.release();
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([]);
    expect(await usable(second.store)).toBe(true);
    second.release();
    await new Promise((r) => setImmediate(r));
    expect(rig.closes).toEqual([a]);
    expect(rig.pool.stats().size).toBe(0);
    // A later acquire opens a fresh handle.
    await touch(rig.pool, a);
    expect(count(rig.opens, a)).toBe(2);
  });

  it('evict() of an idle store closes it before resolving; of an unknown tenant is a no-op', async () => {
    rig = await makeRig(4, 1);
    const [a] = rig.tenants as [string];
    await touch(rig.pool, a);
    await rig.pool.evict(a);
    expect(rig.closes).toEqual([a]);
    expect(rig.pool.stats().size).toBe(0);
    await rig.pool.evict(newId('tenant'));
    expect(rig.closes).toEqual([a]);
  });

  it('opens a tenant once when many requests ask for it at the same time', async () => {
    rig = await makeRig(4, 1);
    const [a] = rig.tenants as [string];
    const leases = await Promise.all(Array.from({ length: 20 }, () => rig.pool.acquire(a)));
    expect(rig.opens).toEqual([a]);
    expect(new Set(leases.map((l) => l.store)).size).toBe(1);
    for (const l of leases) l.release();
    expect(rig.pool.stats().size).toBe(1);
  });

  it('does not cache a failed open: the next acquire tries again', async () => {
    rig = await makeRig(4, 0);
    const late = newId('tenant');
    // The store does not exist yet, so opening it fails.
    const failures = await Promise.allSettled([rig.pool.acquire(late), rig.pool.acquire(late)]);
    expect(failures.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect(rig.opens).toEqual([late]);
    await new Promise((r) => setImmediate(r));
    expect(rig.pool.stats().size).toBe(0);
    await rig.backend.provisionTenant(late);
    const lease = await rig.pool.acquire(late);
    expect(await usable(lease.store)).toBe(true);
    lease.release();
    expect(rig.opens).toEqual([late, late]);
    expect(rig.pool.stats().size).toBe(1);
  });

  it('closeAll closes every store, in use or not, and leaves the pool empty', async () => {
    rig = await makeRig(8, 3);
    const [a, b, c] = rig.tenants as [string, string, string];
    const stores: TenantStore[] = [];
    for (const t of [a, b, c]) {
      const lease = await rig.pool.acquire(t);
      stores.push(lease.store);
      if (t !== c) lease.release();
    }
    await rig.pool.closeAll();
    expect([...rig.closes].sort()).toEqual([a, b, c].sort());
    expect(rig.pool.stats().size).toBe(0);
    for (const s of stores) await expect(s.agents.count()).rejects.toThrow();
  });

  it('closeAll waits for closes already under way', async () => {
    rig = await makeRig(1, 2);
    const [a, b] = rig.tenants as [string, string];
    const leaseA = await rig.pool.acquire(a);
    await touch(rig.pool, b);
    leaseA.release(); // starts closing a in the background
    await rig.pool.closeAll();
    expect([...rig.closes].sort()).toEqual([a, b].sort());
  });

  it('reports a failing close to onCloseError instead of throwing', async () => {
    rig = await makeRig(4, 1);
    const [a] = rig.tenants as [string];
    const boom = new Error('close failed');
    const errors: unknown[] = [];
    const pool = new TenantPool(
      async (id) => {
        const handle = await rig.backend.openTenant(id);
        return {
          store: handle.store,
          close: async () => {
            await handle.close();
            throw boom;
          },
        };
      },
      4,
      (_id, error) => {
        errors.push(error);
      },
    );
    await touch(pool, a);
    await expect(pool.evict(a)).resolves.toBeUndefined();
    expect(errors).toEqual([boom]);
  });
});
