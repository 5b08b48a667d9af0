import type { Role } from '@agentik/shared';
import type { TenantStore } from '../storage/port.js';
import { newId } from '../lib/ids.js';
import type { AuditRecord, TenantRecord } from '../storage/records.js';

/** Who is calling: the operator, or a key with a role in one tenant. */
export type Principal =
  | { kind: 'operator'; keyId: string }
  | { kind: 'member'; keyId: string; tenantId: string; role: Role; userId: string | null };

/** What a request inside a tenant may see: the tenant, the caller, and the tenant's store. */
export interface TenantContext {
  readonly tenant: TenantRecord;
  readonly principal: Principal;
  /** The caller's effective role in this tenant (operators act as owners). */
  readonly role: Role;
  readonly store: TenantStore;
}

/** The audit actor string of a principal. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'operator' ? `operator:${principal.keyId}` : `key:${principal.keyId}`;
}

/** The tenant audit entry for something `principal` did at `at`. */
export function auditEntry(
  principal: Principal,
  at: number,
  action: string,
  target: string | null,
  details: Record<string, unknown> = {},
): AuditRecord {
  return { id: newId('audit'), at, actor: actorOf(principal), action, target, details };
}
