import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { slugify } from '@agentik/shared';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../lib/app-error.js';
import { newId } from '../lib/ids.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../storage/migrations.js';
import type { TenantRecord } from '../storage/records.js';
import { bearer, startTestRuntime, type TestRuntime } from '../test-support/harness.js';

const ACTOR = 'operator:test';
const agentBody = { name: 'helper', systemPrompt: 'be brief', provider: 'ollama', model: 'llama3' };

let rt: TestRuntime;
const extraDirs: string[] = [];

beforeEach(async () => {
  rt = await startTestRuntime();
});

afterEach(async () => {
  await rt.close();
  for (const dir of extraDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tenantsDir = () => path.join(rt.dataDir, 'tenants');
const tenantFiles = () => readdirSync(tenantsDir());
const create = (name: string, extra: { slug?: string; owner?: string } = {}) =>
  rt.manager.createTenant({ name, owner: extra.owner ?? 'owner@example.com', slug: extra.slug }, ACTOR);
const userId = async (handle: string) => (await rt.backend.master.users.ensure(handle, newId('user'), Date.now())).id;

async function issueKey(tenantId: string): Promise<string> {
  return (await rt.manager.createKey(tenantId, 'owner', 'test', ACTOR)).secret;
}

async function expectAppError(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}

async function platformAudit(tenantId: string) {
  return (await rt.backend.master.audit.list({ limit: 200 }, tenantId)).items;
}

describe('createTenant', () => {
  it('provisions a migrated store, records the tenant, its owner membership and an audit entry', async () => {
    const t = await create('Acme Corp');
    expect(t).toMatchObject({ name: 'Acme Corp', slug: 'acme-corp', owner: 'owner@example.com', plan: 'free' });
    expect(t.status).toBe('active');
    expect(t.deletedAt).toBeNull();
    expect(t.id).toMatch(/^tn_[0-9a-z]{26}$/);
    expect(tenantFiles()).toContain(`${t.id}.db`);
    expect(await rt.backend.tenantExists(t.id)).toBe(true);
    expect(await rt.manager.getTenant(t.id)).toEqual(t);
    expect(await rt.backend.master.memberships.isMember(await userId('owner@example.com'), t.id)).toBe(true);
    const audit = await platformAudit(t.id);
    expect(audit.map((e) => e.action)).toEqual(['tenant.created']);
    expect(audit[0]).toMatchObject({ actor: ACTOR, target: `tenant:${t.id}`, details: { slug: 'acme-corp', plan: 'free' } });
    expect(rt.logs.some((l) => l.includes('"event":"tenant.created"') && l.includes(t.id))).toBe(true);
    // The new store is usable at once.
    const lease = await rt.pool.acquire(t.id);
    expect(await lease.store.agents.count()).toBe(0);
    lease.release();
  });

  it.each([
    ['Acme Corp', 'acme-corp'],
    ['  Hello,   World!! ', 'hello-world'],
    ['Café Ünïcödé', 'cafe-unicode'],
    ['Zoë Müller GmbH', 'zoe-muller-gmbh'],
    ['---', 'tenant'],
    ['日本語', 'tenant'],
  ])('derives the slug of %j as %j', async (name, slug) => {
    expect((await create(name)).slug).toBe(slug);
  });

  it('derives a slug of at most 50 characters with no trailing hyphen', async () => {
    const t = await create(`${'a'.repeat(49)} ${'b'.repeat(30)}`);
    expect(t.slug).toBe('a'.repeat(49));
  });

  it('assigns the slug that @agentik/shared slugify (the dashboard preview) derives', async () => {
    const name = `Ünïcödé ${'x'.repeat(60)}`;
    expect((await create(name)).slug).toBe(slugify(name));
  });

  it('keeps the plan it is given', async () => {
    const t = await rt.manager.createTenant({ name: 'Big', owner: 'o@example.com', plan: 'enterprise' }, ACTOR);
    expect(t.plan).toBe('enterprise');
  });

  it('refuses an explicit slug that a live tenant has, with CONFLICT, and leaves nothing behind', async () => {
    const first = await create('First', { slug: 'shared' });
    await expectAppError(create('Second', { slug: 'shared' }), 'CONFLICT');
    expect(tenantFiles()).toEqual([`${first.id}.db`]);
    const all = await rt.manager.listTenants({ limit: 50 });
    expect(all.items.map((t) => t.id)).toEqual([first.id]);
  });

  it('refuses an invalid explicit slug', async () => {
    await expectAppError(create('X', { slug: 'Not A Slug' }), 'VALIDATION_FAILED');
    await expectAppError(create('X', { slug: '../etc' }), 'VALIDATION_FAILED');
    expect(tenantFiles()).toEqual([]);
  });

  it('gives a second tenant with the same derived slug a suffix instead of failing', async () => {
    const a = await create('Acme');
    const b = await create('Acme');
    expect(a.slug).toBe('acme');
    expect(b.slug).toMatch(/^acme-[0-9a-z]{6}$/);
    expect(b.id).not.toBe(a.id);
    expect((await rt.manager.getTenant('acme'))!.id).toBe(a.id);
    expect((await rt.manager.getTenant(b.slug))!.id).toBe(b.id);
  });

  it('lets exactly one of two racing creates with the same explicit slug win; the loser leaves no file', async () => {
    const results = await Promise.allSettled([create('One', { slug: 'race' }), create('Two', { slug: 'race' })]);
    const won = results.filter((r): r is PromiseFulfilledResult<TenantRecord> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(AppError);
    expect((lost[0]!.reason as AppError).code).toBe('CONFLICT');
    expect(tenantFiles()).toEqual([`${won[0]!.value.id}.db`]);
  });
});

describe('createTenant failures leave nothing behind', () => {
  it('when the tenant migrations fail: no file under tenants/, no row in the master store', async () => {
    await rt.close();
    const root = mkdtempSync(path.join(tmpdir(), 'agentik-badmig-'));
    extraDirs.push(root);
    cpSync(path.join(defaultMigrationsRoot('sqlite'), 'master'), path.join(root, 'master'), { recursive: true });
    cpSync(path.join(defaultMigrationsRoot('sqlite'), 'tenant'), path.join(root, 'tenant'), { recursive: true });
    writeFileSync(path.join(root, 'tenant', '0001_init.sql'), 'CREATE TABLE agents (id TEXT PRIMARY KEY);\nNOT VALID SQL;');
    rt = await startTestRuntime({}, { migrations: loadMigrationSets(root) });

    const error = await create('Doomed').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/migration 1 \(init\) failed/);
    expect(tenantFiles()).toEqual([]);
    expect((await rt.manager.listTenants({ limit: 50 })).items).toEqual([]);
    expect(await rt.manager.getTenant('doomed')).toBeUndefined();
    expect((await rt.backend.master.audit.list({ limit: 50 })).items.filter((e) => e.action === 'tenant.created')).toEqual(
      [],
    );
    expect(await rt.backend.master.tenants.countByStatus()).toEqual({ active: 0, suspended: 0, deleted: 0 });
  });

  it('when the master transaction fails after provisioning: the provisioned file is removed', async () => {
    const side = new Database(path.join(rt.dataDir, 'master.db'));
    try {
      // A real database failure in the middle of the master transaction (after the tenant row).
      side.exec("CREATE TRIGGER fail_membership BEFORE INSERT ON memberships BEGIN SELECT RAISE(ABORT, 'injected'); END");
      await expect(create('Half Made')).rejects.toThrow(/injected/);
      expect(tenantFiles()).toEqual([]);
      expect((await rt.manager.listTenants({ limit: 50 })).items).toEqual([]);
      expect(await rt.manager.getTenant('half-made')).toBeUndefined();
      // The audit entry was part of the rolled-back transaction; only the operator key's remains.
      const audit = (await rt.backend.master.audit.list({ limit: 50 })).items;
      expect(audit.map((e) => e.action)).toEqual(['key.created']);
      expect(await rt.backend.master.tenants.countByStatus()).toEqual({ active: 0, suspended: 0, deleted: 0 });
      side.exec('DROP TRIGGER fail_membership');
    } finally {
      side.close();
    }
    // The same name works once the failure is gone, with the slug it would have had.
    const t = await create('Half Made');
    expect(t.slug).toBe('half-made');
    expect(tenantFiles()).toEqual([`${t.id}.db`]);
  });
});

describe('getTenant and getTenantForUser', () => {
  it('finds a tenant by id and by slug, and nothing for unknown or malformed references', async () => {
    const t = await create('Lookup');
    expect(await rt.manager.getTenant(t.id)).toEqual(t);
    expect(await rt.manager.getTenant('lookup')).toEqual(t);
    expect(await rt.manager.getTenant(newId('tenant'))).toBeUndefined();
    expect(await rt.manager.getTenant('no-such-slug')).toBeUndefined();
    for (const bad of ['', '../../etc/passwd', "' OR 1=1 --", t.id.toUpperCase(), `${t.id}x`, 'LOOKUP']) {
      expect(await rt.manager.getTenant(bad)).toBeUndefined();
    }
  });

  it('returns the tenant to its members only', async () => {
    const t = await create('Members', { owner: 'alice@example.com' });
    const alice = await userId('alice@example.com');
    const bob = await userId('bob@example.com');
    expect(await rt.manager.getTenantForUser(alice, t.id)).toEqual(t);
    expect(await rt.manager.getTenantForUser(alice, 'members')).toEqual(t);
    expect(await rt.manager.getTenantForUser(bob, t.id)).toBeUndefined();
    expect(await rt.manager.getTenantForUser(bob, 'members')).toBeUndefined();
    expect(await rt.manager.getTenantForUser(alice, newId('tenant'))).toBeUndefined();
    expect(await rt.manager.getTenantForUser(newId('user'), t.id)).toBeUndefined();
    const other = await create('Other', { owner: 'bob@example.com' });
    expect(await rt.manager.getTenantForUser(alice, other.id)).toBeUndefined();
    expect((await rt.manager.listTenantsForUser(alice)).map((x) => x.id)).toEqual([t.id]);
  });

  it('hides a suspended tenant from its members until it is resumed', async () => {
    const t = await create('Paused', { owner: 'carol@example.com' });
    const carol = await userId('carol@example.com');
    await rt.manager.suspendTenant(t.id, ACTOR);
    expect(await rt.manager.getTenantForUser(carol, t.id)).toBeUndefined();
    expect(await rt.manager.getActiveTenant(t.id)).toBeUndefined();
    expect((await rt.manager.getTenant(t.id))!.status).toBe('suspended');
    expect(await rt.manager.listTenantsForUser(carol)).toEqual([]);
    await rt.manager.resumeTenant(t.id, ACTOR);
    expect((await rt.manager.getTenantForUser(carol, t.id))!.status).toBe('active');
  });
});

describe('listTenants', () => {
  it('pages through 7 tenants 3 at a time: each seen once, in creation order, ending with a null cursor', async () => {
    const created: TenantRecord[] = [];
    for (let i = 0; i < 7; i++) created.push(await create(`Tenant ${i}`));
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await rt.manager.listTenants({ after: cursor, limit: 3 });
      pageSizes.push(page.items.length);
      seen.push(...page.items.map((t) => t.id));
      if (page.nextCursor === null) break;
      expect(page.nextCursor).toBe(page.items[page.items.length - 1]!.id);
      cursor = page.nextCursor;
    }
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(created.map((t) => t.id));
    expect(new Set(seen).size).toBe(7);
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    for (let i = 0; i < 6; i++) await create(`T${i}`);
    const first = await rt.manager.listTenants({ limit: 3 });
    const second = await rt.manager.listTenants({ after: first.nextCursor!, limit: 3 });
    expect(second.items).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
  });

  it('filters by status and keeps tombstones listed as deleted', async () => {
    const [a, b, c] = [await create('A'), await create('B'), await create('C')];
    await rt.manager.suspendTenant(b.id, ACTOR);
    await rt.manager.deleteTenant(c.id, ACTOR);
    const ids = async (status?: 'active' | 'suspended' | 'deleted') =>
      (await rt.manager.listTenants({ limit: 50 }, status)).items.map((t) => t.id);
    expect(await ids('active')).toEqual([a.id]);
    expect(await ids('suspended')).toEqual([b.id]);
    expect(await ids('deleted')).toEqual([c.id]);
    expect(await ids()).toEqual([a.id, b.id, c.id]);
  });
});

describe('suspend and resume', () => {
  it('blocks the tenant keys while suspended, audits each change once, and restores access on resume', async () => {
    const t = await create('Toggle');
    const key = await issueKey(t.id);
    const get = () => rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) });
    expect((await get()).statusCode).toBe(200);

    const suspended = await rt.manager.suspendTenant(t.id, ACTOR);
    expect(suspended.status).toBe('suspended');
    const blocked = await get();
    expect(blocked.statusCode).toBe(404);
    expect(blocked.json()).toMatchObject({ error: { code: 'TENANT_NOT_FOUND' } });
    // Suspending again changes nothing and is not audited twice.
    expect((await rt.manager.suspendTenant(t.id, ACTOR)).status).toBe('suspended');

    const resumed = await rt.manager.resumeTenant(t.id, ACTOR);
    expect(resumed.status).toBe('active');
    expect((await get()).statusCode).toBe(200);
    expect((await rt.manager.resumeTenant(t.id, ACTOR)).status).toBe('active');

    const actions = (await platformAudit(t.id)).map((e) => e.action);
    expect(actions.filter((a) => a.startsWith('tenant.'))).toEqual(['tenant.created', 'tenant.suspended', 'tenant.resumed']);
  });

  it('refuses unknown and deleted tenants with TENANT_NOT_FOUND', async () => {
    await expectAppError(rt.manager.suspendTenant(newId('tenant'), ACTOR), 'TENANT_NOT_FOUND');
    await expectAppError(rt.manager.resumeTenant(newId('tenant'), ACTOR), 'TENANT_NOT_FOUND');
    const t = await create('Gone');
    await rt.manager.deleteTenant(t.id, ACTOR);
    await expectAppError(rt.manager.suspendTenant(t.id, ACTOR), 'TENANT_NOT_FOUND');
    await expectAppError(rt.manager.resumeTenant(t.id, ACTOR), 'TENANT_NOT_FOUND');
    expect((await rt.manager.getTenant(t.id))!.status).toBe('deleted');
  });
});

describe('deleteTenant', () => {
  it('removes the file and its -wal/-shm, kills every key, evicts the pooled store and keeps a tombstone', async () => {
    const t = await create('Doomed Co', { slug: 'doomed' });
    const keys = [await issueKey(t.id), await issueKey(t.id)];
    const post = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(keys[0]!), payload: agentBody });
    expect(post.statusCode).toBe(201);
    // The store is pooled and open, so SQLite's side files exist.
    const file = path.join(tenantsDir(), `${t.id}.db`);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(existsSync(`${file}-shm`)).toBe(true);
    expect(rt.pool.stats().size).toBe(1);
    const evictionsBefore = rt.pool.stats().evictions;

    expect(await rt.manager.deleteTenant(t.id, ACTOR)).toBe(true);

    // File and side files are gone; nothing else of the tenant is left in tenants/.
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) expect(existsSync(f)).toBe(false);
    expect(tenantFiles().filter((f) => f.startsWith(t.id))).toEqual([]);
    expect(await rt.backend.tenantExists(t.id)).toBe(false);
    // The pooled handle is gone (explicit eviction, not LRU pressure).
    expect(rt.pool.stats().size).toBe(0);
    expect(rt.pool.stats().evictions).toBe(evictionsBefore);
    // Every key is revoked and the isolator rejects it.
    for (const key of keys) {
      const res = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    }
    expect(await rt.backend.master.keys.countLive(t.id)).toBe(0);
    const listed = await rt.backend.master.keys.list(t.id, { limit: 50 });
    expect(listed.items).toHaveLength(2);
    for (const k of listed.items) expect(k.revokedAt).not.toBeNull();
    // The operator cannot reach it any more either.
    const op = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: rt.operator(t.id) });
    expect(op.statusCode).toBe(404);
    // The tombstone stays, by id only.
    const tomb = await rt.manager.getTenant(t.id);
    expect(tomb).toMatchObject({ id: t.id, slug: 'doomed', name: 'Doomed Co', status: 'deleted' });
    expect(tomb!.deletedAt).toEqual(expect.any(Number));
    expect(tomb!.deletedAt!).toBeGreaterThanOrEqual(t.createdAt);
    expect(await rt.manager.getTenant('doomed')).toBeUndefined();
    // The platform audit trail survives the tenant.
    const audit = await platformAudit(t.id);
    expect(audit.map((e) => e.action)).toEqual(['tenant.created', 'key.created', 'key.created', 'tenant.deleted']);
    expect(audit[3]).toMatchObject({ actor: ACTOR, details: { revokedKeys: 2, slug: 'doomed' } });
    expect(rt.logs.some((l) => l.includes('"event":"tenant.deleted"') && l.includes(t.id))).toBe(true);
    // Deleting twice is a no-op; no new keys can be issued for it.
    expect(await rt.manager.deleteTenant(t.id, ACTOR)).toBe(false);
    await expectAppError(rt.manager.createKey(t.id, 'owner', null, ACTOR), 'TENANT_NOT_FOUND');
  });

  it('returns false for a tenant that never existed', async () => {
    expect(await rt.manager.deleteTenant(newId('tenant'), ACTOR)).toBe(false);
  });

  it('lets a new tenant take the slug: it gets a new id and starts empty', async () => {
    const old = await create('Reborn', { slug: 'reborn' });
    const oldKey = await issueKey(old.id);
    const made = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(oldKey), payload: agentBody });
    expect(made.statusCode).toBe(201);
    await rt.manager.deleteTenant(old.id, ACTOR);

    const fresh = await create('Reborn', { slug: 'reborn' });
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.slug).toBe('reborn');
    expect((await rt.manager.getTenant('reborn'))!.id).toBe(fresh.id);
    const key = await issueKey(fresh.id);
    const agents = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) });
    expect(agents.statusCode).toBe(200);
    expect(agents.json()).toEqual({ data: [], nextCursor: null });
    const audit = await rt.app.inject({ method: 'GET', url: '/api/audit', headers: bearer(key) });
    expect(audit.json()).toEqual({ data: [], nextCursor: null });
    // The old agent's id means nothing to the new tenant, and the old key still does not work.
    const oldAgent = (made.json() as { id: string }).id;
    expect((await rt.app.inject({ method: 'GET', url: `/api/agents/${oldAgent}`, headers: bearer(key) })).statusCode).toBe(
      404,
    );
    expect((await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(oldKey) })).statusCode).toBe(401);
    // Both rows exist: the tombstone and the live tenant.
    expect((await rt.manager.listTenants({ limit: 50 })).items.map((t) => [t.id, t.status])).toEqual([
      [old.id, 'deleted'],
      [fresh.id, 'active'],
    ]);
  });

  it('waits for a request still using the store before closing it, and the file is gone afterwards', async () => {
    const t = await create('Busy');
    const lease = await rt.pool.acquire(t.id);
    expect(await rt.manager.deleteTenant(t.id, ACTOR)).toBe(true);
    // The in-flight lease still holds the handle; the pool counts it until released.
    expect(rt.pool.stats().size).toBe(1);
    lease.release();
    await new Promise((r) => setImmediate(r));
    expect(rt.pool.stats().size).toBe(0);
    expect(tenantFiles().filter((f) => f.startsWith(t.id))).toEqual([]);
  });
});
