import type { Role } from '@agentik/shared';
import type { TenantStore } from '../storage/port.js';
import type { ApiKeyRecord, AuditRecord, KeyRole, Page, PageRequest } from '../storage/records.js';
import { actorOf, auditEntry, type Principal } from './context.js';
import type { IssuedKey, TenantManager } from './manager.js';
import type { TenantPool } from './pool.js';

export interface KeyServiceDeps {
  manager: TenantManager;
  /** Opens the tenant's store for its audit entry when the caller holds none (the operator). */
  pool: TenantPool;
  now: () => number;
}

/**
 * A tenant's keys: issued and revoked here, and each change audited in both logs in one place,
 * the platform audit log (through the manager) and the tenant's own, whether the tenant's admin
 * or the operator made it.
 */
export class KeyService {
  constructor(private readonly deps: KeyServiceDeps) {}

  list(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>> {
    return this.deps.manager.listKeys(tenantId, page);
  }

  /** Issues a key of the tenant. `store`: the caller's tenant store, when it acts inside the tenant. */
  async issue(tenantId: string, role: KeyRole, name: string | null, by: Principal, store?: TenantStore): Promise<IssuedKey> {
    const issued = await this.deps.manager.createKey(tenantId, role, name, actorOf(by));
    const { record } = issued;
    await this.auditInTenant(tenantId, store, auditEntry(by, this.deps.now(), 'key.created', `key:${record.id}`, { role: record.role, name: record.name }));
    return issued;
  }

  /**
   * Revokes a key of the tenant; false when it has none of that id. `byRole`: the role of the
   * tenant key asking (omitted: the operator), see {@link TenantManager.revokeKey}.
   */
  async revoke(keyId: string, tenantId: string, by: Principal, byRole?: Role, store?: TenantStore): Promise<boolean> {
    if (!(await this.deps.manager.revokeKey(keyId, tenantId, actorOf(by), byRole))) return false;
    await this.auditInTenant(tenantId, store, auditEntry(by, this.deps.now(), 'key.revoked', `key:${keyId}`));
    return true;
  }

  private async auditInTenant(tenantId: string, store: TenantStore | undefined, entry: AuditRecord): Promise<void> {
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
