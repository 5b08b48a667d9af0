import type { LimitOverrides, Plan, ProviderName, Role, TenantStatus } from '@agentik/shared';

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
  /** Limits the operator set over the plan's; empty when the plan's apply. */
  limitOverrides: LimitOverrides;
}

/** What `PATCH /api/tenants/:id` changes. */
export interface TenantPatch {
  plan?: Plan;
  limitOverrides?: LimitOverrides;
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
  /** Names of the built-in tools the agent may call. */
  tools: string[];
  /** Token budget of the context sent to the model; null: the platform default. */
  contextTokens: number | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export type AgentPatch = Partial<Omit<AgentRecord, 'id' | 'createdAt'>> & { updatedAt: EpochMs };

/** One page of a list ordered by id; `nextCursor` is the id to continue after. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The order of a paged list by id: `asc`, oldest first; `desc`, newest first. */
export type PageOrder = 'asc' | 'desc';

export interface PageRequest {
  /** Continue after this id (exclusive), in the list's order. */
  after?: string | undefined;
  limit: number;
}

export interface ConversationRecord {
  id: string;
  agentId: string;
  /** The tenant's own end-user id, when the caller gave one. */
  userId: string | null;
  /** `api` for /api/agents/:id/messages, `openai` for /v1/chat/completions. */
  source: 'api' | 'openai';
  /** The title a user gave it; null (or absent when created) until renamed, and after a reset. */
  title?: string | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface MessageRecord {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant';
  content: string;
  /** Token count of the message when known (estimated for user turns). */
  tokens: number | null;
  createdAt: EpochMs;
}

/** A full-text hit in past messages. */
export interface MessageHit {
  messageId: string;
  conversationId: string;
  agentId: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: EpochMs;
}

/** How the run a cost event books ended. */
export type CostOutcome = 'ok' | 'aborted' | 'failed';

export interface CostEventRecord {
  id: string;
  agentId: string;
  conversationId: string | null;
  messageId: string | null;
  provider: string;
  model: string;
  /** Unknown usage stays null: never a fake 0. */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  latencyMs: number;
  /**
   * `ok`: the reply was delivered; `aborted`: the caller went away; `failed`: the run ended in an
   * error after a model call produced output or usage (a stream broken off mid-reply, a later call
   * of the tool loop that failed), booked all the same (see docs/security.md, Billing integrity).
   */
  outcome: CostOutcome;
  /** True when the provider gave no usage (a broken or aborted stream) and the counts are estimates. */
  usageEstimated: boolean;
  /**
   * Set when the provider's reported usage was out of bounds and the call was booked at its bound:
   * `over_bound` (a count above the bound) or `invalid` (not a non-negative integer); else null.
   */
  usageAnomaly: 'over_bound' | 'invalid' | null;
  createdAt: EpochMs;
}

export type CostGroupBy = 'day' | 'model' | 'agent';

export interface CostGroup {
  key: string;
  usd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
}

export interface CostSummary {
  totalUsd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  groups: CostGroup[];
}

export interface BudgetRecord {
  /** Null: no limit. */
  monthlyLimitUsd: number | null;
  hard: boolean;
  /** Percentages of the limit that raise a notification when crossed. */
  thresholds: number[];
  /** `YYYY-MM` (UTC) the running totals belong to. */
  period: string;
  spentUsd: number;
  reservedUsd: number;
  /** Thresholds already notified in this period. */
  notified: number[];
  updatedAt: EpochMs;
}

export interface BudgetSettings {
  monthlyLimitUsd: number | null;
  hard: boolean;
  thresholds: number[];
}

export interface ProviderCredentialRecord {
  provider: string;
  baseUrl: string | null;
  /** Encrypted at rest (AES-256-GCM); the store never sees the plain key. */
  apiKeyCiphertext: string | null;
  updatedAt: EpochMs;
}
