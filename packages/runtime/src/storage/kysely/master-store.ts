import type { Kysely } from 'kysely';
import type { LimitOverrides, Plan, TenantStatus } from '@agentik/shared';
import { UniqueViolation, type MasterStore } from '../port.js';
import type { ApiKeyRecord, KeyRole, PlatformAuditRecord, TenantRecord } from '../records.js';
import { compileOnce, kyselyRunner, type QueryRunner } from './compiled-query.js';
import { toPage } from './paging.js';
import { createRateWindowRepository } from './rate-window-repository.js';
import type { ApiKeysTable, MasterDb, PlatformAuditTable, TenantsTable } from './tables.js';

/** Tells a unique-constraint violation of the underlying driver from other errors. */
export type UniqueViolationTest = (error: unknown) => boolean;

export function tenantFromRow(r: TenantsTable): TenantRecord {
  return {
    id: r.id,
    slug: r.slug,
    name: r.name,
    owner: r.owner,
    plan: r.plan as Plan,
    status: r.status as TenantStatus,
    createdAt: Number(r.created_at),
    deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
    limitOverrides: JSON.parse(r.limit_overrides ?? '{}') as LimitOverrides,
  };
}

/** The tenant's columns beside a key's, prefixed `t_` (see `findByHashWithTenant`). */
export const TENANT_COLUMNS_PREFIXED = [
  't.slug as t_slug',
  't.name as t_name',
  't.owner as t_owner',
  't.plan as t_plan',
  't.status as t_status',
  't.created_at as t_created_at',
  't.updated_at as t_updated_at',
  't.deleted_at as t_deleted_at',
  't.limit_overrides as t_limit_overrides',
] as const;

/** A key's row with its tenant's columns prefixed `t_` (all null for an operator key). */
export type KeyWithTenantRow = ApiKeysTable & { [C in keyof Omit<TenantsTable, 'id'> as `t_${C}`]: TenantsTable[C] | null };

export function keyWithTenantFromRow(r: KeyWithTenantRow): { key: ApiKeyRecord; tenant: TenantRecord | undefined } {
  const key = keyFromRow(r);
  if (r.tenant_id === null || r.t_slug === null) return { key, tenant: undefined };
  const tenant = tenantFromRow({
    id: r.tenant_id,
    slug: r.t_slug,
    name: r.t_name ?? '',
    owner: r.t_owner ?? '',
    plan: r.t_plan ?? '',
    status: r.t_status ?? '',
    created_at: r.t_created_at ?? 0,
    updated_at: r.t_updated_at ?? 0,
    deleted_at: r.t_deleted_at,
    limit_overrides: r.t_limit_overrides ?? '{}',
  });
  return { key, tenant };
}

export function keyFromRow(r: ApiKeysTable): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    role: r.role as KeyRole,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

function auditFromRow(r: PlatformAuditTable): PlatformAuditRecord {
  return {
    id: r.id,
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    tenantId: r.tenant_id,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

const tenantById = compileOnce((db: Kysely<MasterDb>, id: string) => db.selectFrom('tenants').selectAll().where('id', '=', id));
const keyByHash = compileOnce((db: Kysely<MasterDb>, hash: string) => db.selectFrom('api_keys').selectAll().where('hash', '=', hash));
const touchKey = compileOnce((db: Kysely<MasterDb>, id: string, at: number) =>
  db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id),
);
const keyWithTenantByHash = compileOnce((db: Kysely<MasterDb>, hash: string) =>
  db
    .selectFrom('api_keys as k')
    .leftJoin('tenants as t', 't.id', 'k.tenant_id')
    .selectAll('k')
    .select(TENANT_COLUMNS_PREFIXED)
    .where('k.hash', '=', hash),
);

/** The master store over any Kysely dialect; `runners` as `TenantDialect.runner`. */
export function createKyselyMasterStore(
  db: Kysely<MasterDb>,
  isUnique: UniqueViolationTest,
  inTransaction = false,
  runners?: (inTransaction: boolean) => QueryRunner,
): MasterStore {
  const runner = runners?.(inTransaction) ?? kyselyRunner;
  const store: MasterStore = {
    tenants: {
      async insert(t) {
        try {
          await db
            .insertInto('tenants')
            .values({
              id: t.id,
              slug: t.slug,
              name: t.name,
              owner: t.owner,
              plan: t.plan,
              status: t.status,
              created_at: t.createdAt,
              updated_at: t.createdAt,
              deleted_at: t.deletedAt,
              limit_overrides: JSON.stringify(t.limitOverrides),
            })
            .execute();
        } catch (error) {
          if (isUnique(error)) throw new UniqueViolation(`a tenant with slug "${t.slug}"`);
          throw error;
        }
      },
      async findById(id) {
        const [row] = await runner.read(db, tenantById(db, id));
        return row && tenantFromRow(row);
      },
      async lock(id) {
        // A no-op write: it takes the row lock (Postgres) or the database's write lock (SQLite)
        // in both dialects, where SELECT ... FOR UPDATE exists in one only.
        const row = await db.updateTable('tenants').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).returningAll().executeTakeFirst();
        return row && tenantFromRow(row);
      },
      async update(id, patch, at) {
        const row = await db
          .updateTable('tenants')
          .set({
            updated_at: at,
            ...(patch.plan !== undefined ? { plan: patch.plan } : {}),
            ...(patch.limitOverrides !== undefined ? { limit_overrides: JSON.stringify(patch.limitOverrides) } : {}),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        return row && tenantFromRow(row);
      },
      async findLiveBySlug(slug) {
        const row = await db
          .selectFrom('tenants')
          .selectAll()
          .where('slug', '=', slug)
          .where('status', '<>', 'deleted')
          .executeTakeFirst();
        return row && tenantFromRow(row);
      },
      async list(page, status) {
        let q = db.selectFrom('tenants').selectAll().orderBy('id').limit(page.limit + 1);
        if (page.after !== undefined) q = q.where('id', '>', page.after);
        if (status !== undefined) q = q.where('status', '=', status);
        return toPage(await q.execute(), page, tenantFromRow);
      },
      async setStatus(id, status, at) {
        const row = await db
          .updateTable('tenants')
          .set({ status, updated_at: at, ...(status === 'deleted' ? { deleted_at: at } : {}) })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        return row && tenantFromRow(row);
      },
      async countByStatus() {
        const rows = await db
          .selectFrom('tenants')
          .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('status')
          .execute();
        const counts: Record<TenantStatus, number> = { active: 0, suspended: 0, deleted: 0 };
        for (const r of rows) counts[r.status as TenantStatus] = Number(r.n);
        return counts;
      },
    },
    users: {
      async ensure(handle, id, at) {
        await db
          .insertInto('users')
          .values({ id, handle, created_at: at })
          .onConflict((oc) => oc.column('handle').doNothing())
          .execute();
        const row = await db.selectFrom('users').selectAll().where('handle', '=', handle).executeTakeFirstOrThrow();
        return { id: row.id, handle: row.handle, createdAt: Number(row.created_at) };
      },
      async findById(id) {
        const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
        return row && { id: row.id, handle: row.handle, createdAt: Number(row.created_at) };
      },
    },
    memberships: {
      async add(userId, tenantId, role, at) {
        await db
          .insertInto('memberships')
          .values({ user_id: userId, tenant_id: tenantId, role, created_at: at })
          .onConflict((oc) => oc.columns(['user_id', 'tenant_id']).doUpdateSet({ role }))
          .execute();
      },
      async tenantIdsOf(userId) {
        const rows = await db
          .selectFrom('memberships')
          .select('tenant_id')
          .where('user_id', '=', userId)
          .orderBy('tenant_id')
          .execute();
        return rows.map((r) => r.tenant_id);
      },
      async isMember(userId, tenantId) {
        const row = await db
          .selectFrom('memberships')
          .select('role')
          .where('user_id', '=', userId)
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        return row !== undefined;
      },
    },
    keys: {
      async insert(k) {
        await db
          .insertInto('api_keys')
          .values({
            id: k.id,
            tenant_id: k.tenantId,
            user_id: k.userId,
            role: k.role,
            name: k.name,
            prefix: k.prefix,
            hash: k.hash,
            created_at: k.createdAt,
            last_used_at: k.lastUsedAt,
            revoked_at: k.revokedAt,
          })
          .execute();
      },
      async findByHash(hash) {
        const [row] = await runner.read(db, keyByHash(db, hash));
        return row && keyFromRow(row);
      },
      async findByHashWithTenant(hash) {
        const [row] = await runner.read(db, keyWithTenantByHash(db, hash));
        return row && keyWithTenantFromRow(row);
      },
      async list(tenantId, page) {
        let q = db.selectFrom('api_keys').selectAll().orderBy('id').limit(page.limit + 1);
        q = tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId);
        if (page.after !== undefined) q = q.where('id', '>', page.after);
        return toPage(await q.execute(), page, keyFromRow);
      },
      async revoke(id, tenantId, at) {
        let q = db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null);
        q = tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId);
        const result = await q.executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      },
      async revokeAllOfTenant(tenantId, at) {
        const result = await db
          .updateTable('api_keys')
          .set({ revoked_at: at })
          .where('tenant_id', '=', tenantId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      },
      async touch(id, at) {
        await runner.write(db, touchKey(db, id, at));
      },
      async countLive(tenantId, role) {
        let q = db
          .selectFrom('api_keys')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('revoked_at', 'is', null);
        q = tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId);
        if (role !== undefined) q = q.where('role', '=', role);
        const row = await q.executeTakeFirstOrThrow();
        return Number(row.n);
      },
      async findLive(id, tenantId) {
        let q = db.selectFrom('api_keys').selectAll().where('id', '=', id).where('revoked_at', 'is', null);
        q = tenantId === null ? q.where('tenant_id', 'is', null) : q.where('tenant_id', '=', tenantId);
        const row = await q.executeTakeFirst();
        return row && keyFromRow(row);
      },
    },
    audit: {
      async append(e) {
        await db
          .insertInto('platform_audit')
          .values({
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            tenant_id: e.tenantId,
            target: e.target,
            details: JSON.stringify(e.details),
          })
          .execute();
      },
      async list(page, tenantId) {
        let q = db.selectFrom('platform_audit').selectAll().orderBy('id').limit(page.limit + 1);
        if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
        if (page.after !== undefined) q = q.where('id', '>', page.after);
        return toPage(await q.execute(), page, auditFromRow);
      },
    },
    rateWindows: createRateWindowRepository(db, runner),
    async transaction(fn) {
      if (inTransaction) return fn(store);
      return db.transaction().execute((trx) => fn(createKyselyMasterStore(trx, isUnique, true, runners)));
    },
  };
  return store;
}

