import {
  LIMIT_NAMES,
  SLUG_REGEX,
  idPattern,
  slugify,
  limitValues,
  roleAtLeast,
  type LimitOverrides,
  type Plan,
  type Role,
  type TenantStatus,
  type UpdateTenantBody,
} from '@agentik/shared';
import { AppError } from '../lib/app-error.js';
import { newId } from '../lib/ids.js';
import type { Log } from '../lib/log.js';
import { UniqueViolation, type StorageBackend } from '../storage/port.js';
import type { ApiKeyRecord, KeyRole, Page, PageRequest, TenantRecord } from '../storage/records.js';
import { displayPrefix, generateApiKey, hashApiKey } from './api-keys.js';
import type { TenantPool } from './pool.js';

export interface CreateTenantInput {
  name: string;
  slug?: string | undefined;
  owner: string;
  plan?: Plan | undefined;
}

/** A key as created: the record and, this once, the secret. */
export interface IssuedKey {
  record: ApiKeyRecord;
  secret: string;
}

export interface TenantManagerDeps {
  backend: StorageBackend;
  pool: TenantPool;
  log: Log;
  now?: () => number;
}

const TENANT_ID = idPattern('tenant');

/**
 * The tenant lifecycle: create, look up, list, suspend, resume, delete, and the keys bound to a
 * tenant. Every change is logged and audited in the platform audit log.
 */
export class TenantManager {
  private readonly backend: StorageBackend;
  private readonly pool: TenantPool;
  private readonly log: Log;
  private readonly now: () => number;

  constructor(deps: TenantManagerDeps) {
    this.backend = deps.backend;
    this.pool = deps.pool;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
  }

  private get master() {
    return this.backend.master;
  }

  /**
   * Creates a tenant: provisions and migrates its store, then records it, its owner and the
   * owner's membership in one master transaction. If any step fails nothing of it remains.
   */
  async createTenant(input: CreateTenantInput, actor: string): Promise<TenantRecord> {
    const plan = input.plan ?? 'free';
    const explicitSlug = input.slug !== undefined;
    let slug = input.slug ?? slugify(input.name);
    if (!SLUG_REGEX.test(slug)) throw new AppError('VALIDATION_FAILED', 'slug: invalid');
    if (await this.master.tenants.findLiveBySlug(slug)) {
      if (explicitSlug) throw new AppError('CONFLICT', `a tenant with slug "${slug}" already exists`);
      slug = `${slug}-${newId('tenant').slice(-6)}`;
    }
    const at = this.now();
    const tenant: TenantRecord = {
      id: newId('tenant'),
      slug,
      name: input.name,
      owner: input.owner,
      plan,
      status: 'active',
      createdAt: at,
      deletedAt: null,
      limitOverrides: {},
    };
    await this.backend.provisionTenant(tenant.id);
    try {
      await this.master.transaction(async (tx) => {
        await tx.tenants.insert(tenant);
        const user = await tx.users.ensure(tenant.owner, newId('user'), at);
        await tx.memberships.add(user.id, tenant.id, 'owner', at);
        await tx.audit.append({
          id: newId('audit'),
          at,
          actor,
          action: 'tenant.created',
          tenantId: tenant.id,
          target: `tenant:${tenant.id}`,
          details: { slug, plan },
        });
      });
    } catch (error) {
      await this.backend.destroyTenant(tenant.id);
      if (error instanceof UniqueViolation) throw new AppError('CONFLICT', `a tenant with slug "${slug}" already exists`);
      throw error;
    }
    this.log.info({ event: 'tenant.created', tenantId: tenant.id, slug, plan, actor }, 'tenant created');
    return tenant;
  }

  /** A tenant by id (tombstones included) or by the slug of a live tenant. */
  async getTenant(ref: string): Promise<TenantRecord | undefined> {
    if (TENANT_ID.test(ref)) return this.master.tenants.findById(ref);
    if (SLUG_REGEX.test(ref)) return this.master.tenants.findLiveBySlug(ref);
    return undefined;
  }

  /** The active tenant `ref` names, if there is one; anything else is undefined. */
  async getActiveTenant(ref: string): Promise<TenantRecord | undefined> {
    const tenant = await this.getTenant(ref);
    return tenant?.status === 'active' ? tenant : undefined;
  }

  /** The active tenant `ref` names, but only when the user is one of its members. */
  async getTenantForUser(userId: string, ref: string): Promise<TenantRecord | undefined> {
    const tenant = await this.getActiveTenant(ref);
    if (!tenant) return undefined;
    return (await this.master.memberships.isMember(userId, tenant.id)) ? tenant : undefined;
  }

  /** The active tenants the user is a member of. */
  async listTenantsForUser(userId: string): Promise<TenantRecord[]> {
    const ids = await this.master.memberships.tenantIdsOf(userId);
    const tenants = await Promise.all(ids.map((id) => this.master.tenants.findById(id)));
    return tenants.filter((t): t is TenantRecord => t?.status === 'active');
  }

  listTenants(page: PageRequest, status?: TenantStatus): Promise<Page<TenantRecord>> {
    return this.master.tenants.list(page, status);
  }

  async suspendTenant(id: string, actor: string): Promise<TenantRecord> {
    return this.changeStatus(id, 'active', 'suspended', actor);
  }

  async resumeTenant(id: string, actor: string): Promise<TenantRecord> {
    return this.changeStatus(id, 'suspended', 'active', actor);
  }

  private async changeStatus(id: string, from: TenantStatus, to: TenantStatus, actor: string): Promise<TenantRecord> {
    const action = to === 'suspended' ? 'tenant.suspended' : 'tenant.resumed';
    const updated = await this.master.transaction(async (tx) => {
      const tenant = await tx.tenants.findById(id);
      if (!tenant || tenant.status === 'deleted') throw new AppError('TENANT_NOT_FOUND', 'tenant not found');
      if (tenant.status !== from) return tenant;
      const at = this.now();
      const changed = (await tx.tenants.setStatus(id, to, at))!;
      await tx.audit.append({
        id: newId('audit'),
        at,
        actor,
        action,
        tenantId: id,
        target: `tenant:${id}`,
        details: {},
      });
      return changed;
    });
    this.log.info({ event: action, tenantId: id, actor }, `tenant ${to}`);
    return updated;
  }

  /**
   * Changes a tenant's plan and/or its limit overrides (a null override goes back to the plan's
   * value), under the tenant's row lock, and audits what changed. Returns the tenant as it is now.
   */
  async updateTenant(id: string, body: UpdateTenantBody, actor: string): Promise<TenantRecord> {
    const updated = await this.master.transaction(async (tx) => {
      const tenant = await tx.tenants.lock(id);
      if (!tenant || tenant.status === 'deleted') throw new AppError('TENANT_NOT_FOUND', 'tenant not found');
      const overrides: LimitOverrides = { ...tenant.limitOverrides };
      const limitChanges: Record<string, { from: number | null; to: number | null }> = {};
      for (const name of LIMIT_NAMES) {
        const next = body.limits?.[name];
        if (next === undefined) continue;
        const from = tenant.limitOverrides[name] ?? null;
        if (next === null) delete overrides[name];
        else overrides[name] = next;
        if (from !== next) limitChanges[name] = { from, to: next };
      }
      const planChange = body.plan !== undefined && body.plan !== tenant.plan ? { from: tenant.plan, to: body.plan } : undefined;
      if (!planChange && Object.keys(limitChanges).length === 0) return tenant;
      const at = this.now();
      const changed = (await tx.tenants.update(id, { plan: body.plan ?? tenant.plan, limitOverrides: overrides }, at))!;
      await tx.audit.append({
        id: newId('audit'),
        at,
        actor,
        action: 'tenant.updated',
        tenantId: id,
        target: `tenant:${id}`,
        details: { ...(planChange ? { plan: planChange } : {}), ...(Object.keys(limitChanges).length > 0 ? { limits: limitChanges } : {}) },
      });
      this.log.info({ event: 'tenant.updated', tenantId: id, plan: changed.plan, limitOverrides: overrides, actor }, 'tenant updated');
      return changed;
    });
    return updated;
  }

  /**
   * Deletes a tenant for good: marks the tombstone and revokes every key in one transaction,
   * evicts the pooled store, then destroys the store itself. Returns false when there was no
   * live tenant with this id.
   */
  async deleteTenant(id: string, actor: string): Promise<boolean> {
    const at = this.now();
    const revoked = await this.master.transaction(async (tx) => {
      const tenant = await tx.tenants.findById(id);
      if (!tenant || tenant.status === 'deleted') return undefined;
      await tx.tenants.setStatus(id, 'deleted', at);
      const count = await tx.keys.revokeAllOfTenant(id, at);
      await tx.audit.append({
        id: newId('audit'),
        at,
        actor,
        action: 'tenant.deleted',
        tenantId: id,
        target: `tenant:${id}`,
        details: { revokedKeys: count, slug: tenant.slug },
      });
      return count;
    });
    if (revoked === undefined) return false;
    await this.pool.evict(id);
    await this.backend.destroyTenant(id);
    this.log.info({ event: 'tenant.deleted', tenantId: id, revokedKeys: revoked, actor }, 'tenant deleted');
    return true;
  }

  /**
   * Issues a key for a tenant (or, with `tenantId` null, an operator key). The secret is
   * returned once and only its hash is stored.
   */
  async createKey(
    tenantId: string | null,
    role: KeyRole,
    name: string | null,
    actor: string,
    secret: string = generateApiKey(),
  ): Promise<IssuedKey> {
    const at = this.now();
    const record: ApiKeyRecord = {
      id: newId('key'),
      tenantId,
      userId: null,
      role,
      name,
      prefix: displayPrefix(secret),
      hash: hashApiKey(secret),
      createdAt: at,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.master.transaction(async (tx) => {
      if (tenantId !== null) {
        // The lock makes concurrent issuers (on any replica) count one after the other.
        const tenant = await tx.tenants.lock(tenantId);
        if (!tenant || tenant.status === 'deleted') throw new AppError('TENANT_NOT_FOUND', 'tenant not found');
        const live = await tx.keys.countLive(tenantId);
        const { maxKeys } = limitValues(tenant.plan, tenant.limitOverrides);
        if (live >= maxKeys) {
          throw new AppError('PLAN_LIMIT_REACHED', limitAllows(tenant, 'maxKeys', 'live keys'));
        }
      }
      await tx.keys.insert(record);
      await tx.audit.append({
        id: newId('audit'),
        at,
        actor,
        action: 'key.created',
        tenantId,
        target: `key:${record.id}`,
        details: { role, name },
      });
    });
    this.log.info({ event: 'key.created', tenantId, keyId: record.id, role, actor }, 'key created');
    return { record, secret };
  }

  /**
   * Revokes a key of the given tenant (`null`: an operator key); false when there is none.
   * `byRole` is the role of the tenant key asking (omitted: the operator). Revoking follows the
   * issuing rule: a tenant key never revokes a key stronger than its own, nor the tenant's last
   * live owner key (then only the operator could issue a new one).
   */
  async revokeKey(keyId: string, tenantId: string | null, actor: string, byRole?: Role): Promise<boolean> {
    const at = this.now();
    const done = await this.master.transaction(async (tx) => {
      if (byRole !== undefined && tenantId !== null) {
        // Locked: two owners revoking each other's key at once cannot both pass the last-owner check.
        await tx.tenants.lock(tenantId);
        const key = await tx.keys.findLive(keyId, tenantId);
        if (!key) return false;
        if (key.role === 'operator' || !roleAtLeast(byRole, key.role)) {
          throw new AppError('FORBIDDEN', `a ${byRole} cannot revoke a ${key.role} key`);
        }
        if (key.role === 'owner' && (await tx.keys.countLive(tenantId, 'owner')) <= 1) {
          throw new AppError('FORBIDDEN', "the tenant's last owner key can only be revoked by the operator");
        }
      }
      const ok = await tx.keys.revoke(keyId, tenantId, at);
      if (ok) {
        await tx.audit.append({
          id: newId('audit'),
          at,
          actor,
          action: 'key.revoked',
          tenantId,
          target: `key:${keyId}`,
          details: {},
        });
      }
      return ok;
    });
    if (done) this.log.info({ event: 'key.revoked', tenantId, keyId, actor }, 'key revoked');
    return done;
  }

  /** Keys of one tenant, newest last; secrets are never part of a record. */
  listKeys(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.master.keys.list(tenantId, page);
  }

  /**
   * Makes sure an operator key exists. With `configured` set and no operator key yet, that key
   * becomes the operator key; otherwise a new one is generated and returned once.
   */
  async ensureOperatorKey(configured: string | undefined): Promise<{ created: boolean; secret?: string }> {
    if ((await this.master.keys.countLive(null)) > 0) return { created: false };
    try {
      const issued = await this.createKey(null, 'operator', 'operator', 'system', configured);
      return configured === undefined ? { created: true, secret: issued.secret } : { created: true };
    } catch (error) {
      // Replicas starting together race to make the first key; the loser finds the winner's.
      if ((await this.master.keys.countLive(null)) > 0) return { created: false };
      throw error;
    }
  }
}

/** The error message for a limit reached: "the free plan allows 60 requests per minute", or the override's. */
export function limitAllows(tenant: TenantRecord, name: keyof LimitOverrides, what: string): string {
  const value = limitValues(tenant.plan, tenant.limitOverrides)[name];
  return tenant.limitOverrides[name] === undefined
    ? `the ${tenant.plan} plan allows ${value} ${what}`
    : `this tenant's limit (set by the operator) allows ${value} ${what}`;
}
