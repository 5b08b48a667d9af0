import type { Role } from '@agentik/shared';
import type { TenantStore } from '../storage/port.js';
import type { ApiKeyRecord, AuditRecord, KeyRole, Page, PageRequest } from '../storage/records.js';
import { newId } from '../lib/ids.js';
import { actorOf, type Principal } from './context.js';
import type { IssuedKey, TenantManager } from './manager.js';
import type { TenantPool } from './pool.js';

const actorName = (by: Principal | 'cli') => (by === 'cli' ? 'cli' : actorOf(by));

export interface KeyServiceDeps {
  manager: TenantManager;
  /** Opens the tenant's store for its audit entry when the caller holds none (the operator). */
  pool: TenantPool;
  now: () => number;
}

/**
 * A tenant's keys: issued and revoked here, and each change audited in both logs in one place,
 * the platform audit log (through the manager) and the tenant's own, whether the tenant's admin,
 * the operator or the CLI made it. `by` is the caller's principal, or `'cli'`.
 */
export class KeyService {
  constructor(private readonly deps: KeyServiceDeps) {}

  list(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.deps.manager.listKeys(tenantId, page);
  }

  /** Issues a key of the tenant. `store`: the caller's tenant store, when it acts inside the tenant. */
  async issue(tenantId: string, role: KeyRole, name: string | null, by: Principal | 'cli', store?: TenantStore): Promise<IssuedKey> {
    const issued = await this.deps.manager.createKey(tenantId, role, name, actorName(by));
    const { record } = issued;
    await this.auditInTenant(tenantId, store, by, 'key.created', record.id, { role: record.role, name: record.name });
    return issued;
  }

  /**
   * Revokes a key of the tenant; false when it has none of that id. `byRole`: the role of the
   * tenant key asking (omitted: the operator), see {@link TenantManager.revokeKey}.
   */
  async revoke(keyId: string, tenantId: string, by: Principal | 'cli', byRole?: Role, store?: TenantStore): Promise<boolean> {
    if (!(await this.deps.manager.revokeKey(keyId, tenantId, actorName(by), byRole))) return false;
    await this.auditInTenant(tenantId, store, by, 'key.revoked', keyId, {});
    return true;
  }

  private async auditInTenant(
    tenantId: string,
    store: TenantStore | undefined,
    by: Principal | 'cli',
    action: string,
    keyId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const entry: AuditRecord = { id: newId('audit'), at: this.deps.now(), actor: actorName(by), action, target: `key:${keyId}`, details };
    if (store) {
      await store.audit.append(entry);
      return;
    }
    const lease = await this.deps.pool.acquire(tenantId);
    try {
      await lease.store.audit.append(entry);
    } finally {
      lease.release();
    }
  }
}
