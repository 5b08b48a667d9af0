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
  /** JSON: the operator's overrides of the plan's limits. */
  limit_overrides: string;
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

export interface RateWindowsTable {
  tenant_id: string;
  minute: number;
  count: number;
}

export interface MasterDb {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  api_keys: ApiKeysTable;
  platform_audit: PlatformAuditTable;
  rate_windows: RateWindowsTable;
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
  tools: string;
  context_tokens: number | null;
  created_at: number;
  updated_at: number;
}

export interface ConversationsTable {
  id: string;
  agent_id: string;
  user_id: string | null;
  source: string;
  title: string | null;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  role: string;
  content: string;
  tokens: number | null;
  created_at: number;
}

export interface CostEventsTable {
  id: string;
  agent_id: string;
  conversation_id: string | null;
  message_id: string | null;
  provider: string;
  model: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number;
  outcome: string;
  usage_estimated: number;
  usage_anomaly: string | null;
  created_at: number;
}

export interface BudgetTable {
  id: number;
  monthly_limit_usd: number | null;
  hard: number;
  thresholds: string;
  period: string;
  spent_usd: number;
  reserved_usd: number;
  notified: string;
  updated_at: number;
}

export interface ProviderCredentialsTable {
  provider: string;
  base_url: string | null;
  api_key: string | null;
  updated_at: number;
}

export interface TenantDb {
  agents: AgentsTable;
  audit_events: AuditTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  cost_events: CostEventsTable;
  budget: BudgetTable;
  provider_credentials: ProviderCredentialsTable;
}
