import type { Plan, ProviderName, Role, TenantStatus } from '@agentik/shared';

/** Times are milliseconds since the epoch inside the runtime; the HTTP layer renders ISO strings. */
export type EpochMs = number;

export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  owner: string;
  plan: Plan;
  status: TenantStatus;
  createdAt: EpochMs;
  deletedAt: EpochMs | null;
}

export interface UserRecord {
  id: string;
  handle: string;
  createdAt: EpochMs;
}

/** `operator` keys belong to no tenant; every other role is a role in exactly one tenant. */
export type KeyRole = Role | 'operator';

export interface ApiKeyRecord {
  id: string;
  tenantId: string | null;
  userId: string | null;
  role: KeyRole;
  name: string | null;
  /** The first characters of the key, shown in lists so a person can tell keys apart. */
  prefix: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  hash: string;
  createdAt: EpochMs;
  lastUsedAt: EpochMs | null;
  revokedAt: EpochMs | null;
}

export interface AuditRecord {
  id: string;
  at: EpochMs;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

export interface PlatformAuditRecord extends AuditRecord {
  tenantId: string | null;
}

export interface AgentRecord {
  id: string;
  name: string;
  description: string | null;
  systemPrompt: string;
  provider: ProviderName;
  model: string;
  temperature: number | null;
  maxTokens: number | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export type AgentPatch = Partial<Omit<AgentRecord, 'id' | 'createdAt'>> & { updatedAt: EpochMs };

/** One page of a list ordered by id; `nextCursor` is the id to continue after. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  /** Continue after this id (exclusive). */
  after?: string | undefined;
  limit: number;
}
