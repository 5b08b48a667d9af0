/** Column types of the master and tenant tables, as both SQL dialects store them. */

export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  owner: string;
  plan: string;
  status: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface UsersTable {
  id: string;
  handle: string;
  created_at: number;
}

export interface MembershipsTable {
  user_id: string;
  tenant_id: string;
  role: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string | null;
  user_id: string | null;
  role: string;
  name: string | null;
  prefix: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditTable {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
}

export interface PlatformAuditTable extends AuditTable {
  tenant_id: string | null;
}

export interface MasterDb {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  api_keys: ApiKeysTable;
  platform_audit: PlatformAuditTable;
}

export interface AgentsTable {
  id: string;
  name: string;
  description: string | null;
  system_prompt: string;
  provider: string;
  model: string;
  temperature: number | null;
  max_tokens: number | null;
  created_at: number;
  updated_at: number;
}

export interface TenantDb {
  agents: AgentsTable;
  audit_events: AuditTable;
}
