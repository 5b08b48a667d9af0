import type { TenantStatus } from '@agentik/shared';
import type {
  AgentPatch,
  AgentRecord,
  ApiKeyRecord,
  AuditRecord,
  BudgetRecord,
  BudgetSettings,
  ConversationRecord,
  CostEventRecord,
  CostGroupBy,
  CostSummary,
  EpochMs,
  KeyRole,
  MessageHit,
  MessageRecord,
  ProviderCredentialRecord,
  Page,
  PageOrder,
  PageRequest,
  PlatformAuditRecord,
  TenantPatch,
  TenantRecord,
  UserRecord,
} from './records.js';

/**
 * The storage port. Domain code depends on these interfaces only; the SQLite and Postgres
 * adapters implement them. Nothing here takes a tenant id and returns tenant-owned rows: tenant
 * data is reachable only through a {@link TenantStore} handle.
 */

/** Raised by a store when a unique constraint (slug, agent name, ...) is violated. */
export class UniqueViolation extends Error {
  constructor(readonly what: string) {
    super(`${what} already exists`);
    this.name = 'UniqueViolation';
  }
}

export interface TenantRepository {
  /** Inserts a tenant; throws {@link UniqueViolation} when a live tenant has the slug. */
  insert(tenant: TenantRecord): Promise<void>;
  /** Any tenant by id, tombstones included. */
  findById(id: string): Promise<TenantRecord | undefined>;
  /** The live (not deleted) tenant with this slug. */
  findLiveBySlug(slug: string): Promise<TenantRecord | undefined>;
  list(page: PageRequest, status?: TenantStatus): Promise<Page<TenantRecord>>;
  /** Sets the status; returns the updated tenant, or undefined when it does not exist. */
  setStatus(id: string, status: TenantStatus, at: EpochMs): Promise<TenantRecord | undefined>;
  /**
   * Inside a transaction: the tenant, with its row locked until the transaction ends, so
   * concurrent checks of its limits (keys, owner keys) run one after the other, on every replica
   * (Postgres: a row lock; SQLite: the write lock). Undefined when there is no such tenant.
   */
  lock(id: string): Promise<TenantRecord | undefined>;
  /** Sets the plan and/or the limit overrides (replaced whole); undefined when there is no such tenant. */
  update(id: string, patch: TenantPatch, at: EpochMs): Promise<TenantRecord | undefined>;
  countByStatus(): Promise<Record<TenantStatus, number>>;
}

export interface UserRepository {
  /** The user with this handle, created when it is new. */
  ensure(handle: string, id: string, at: EpochMs): Promise<UserRecord>;
  findById(id: string): Promise<UserRecord | undefined>;
}

export interface MembershipRepository {
  add(userId: string, tenantId: string, role: ApiKeyRecord['role'], at: EpochMs): Promise<void>;
  /** Ids of the tenants the user is a member of. */
  tenantIdsOf(userId: string): Promise<string[]>;
  isMember(userId: string, tenantId: string): Promise<boolean>;
}

export interface ApiKeyRepository {
  insert(key: ApiKeyRecord): Promise<void>;
  /** The key with this hash, revoked or not. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * The key with this hash and, for a tenant's key, its tenant (tombstones included), read in one
   * statement: every authenticated request needs both.
   */
  findByHashWithTenant(hash: string): Promise<{ key: ApiKeyRecord; tenant: TenantRecord | undefined } | undefined>;
  /** Keys of one tenant (`null`: operator keys), newest last. */
  list(tenantId: string | null, page: PageRequest): Promise<Page<ApiKeyRecord>>;
  /** Revokes one key of the given owner; false when there is no such live key. */
  revoke(id: string, tenantId: string | null, at: EpochMs): Promise<boolean>;
  revokeAllOfTenant(tenantId: string, at: EpochMs): Promise<number>;
  touch(id: string, at: EpochMs): Promise<void>;
  /** Live keys of one tenant (`null`: operator keys), all of them or those of one role. */
  countLive(tenantId: string | null, role?: KeyRole): Promise<number>;
  /** The live key with this id of the given owner (`null`: operator keys). */
  findLive(id: string, tenantId: string | null): Promise<ApiKeyRecord | undefined>;
}

export interface PlatformAuditRepository {
  append(event: PlatformAuditRecord): Promise<void>;
  list(page: PageRequest, tenantId?: string): Promise<Page<PlatformAuditRecord>>;
}

/** Counts of one tenant's requests in one minute and the minute before it. */
export interface RateWindowCounts {
  /** The count of `minute`, this request included. */
  current: number;
  /** The count of `minute - 1` (0 when there was none). */
  previous: number;
}

/**
 * Per-tenant request counters shared by every process on the database (the rate limiter of
 * replicas without Redis). Each call is one atomic statement.
 */
export interface RateWindowRepository {
  /** Adds one to the tenant's count of `minute` and returns it with the previous minute's. */
  increment(tenantId: string, minute: number): Promise<RateWindowCounts>;
  /** Takes one back (a request that was refused is not counted). */
  decrement(tenantId: string, minute: number): Promise<void>;
  /** Forgets the tenant's counts of minutes before `minute`. */
  prune(tenantId: string, beforeMinute: number): Promise<void>;
}

/** The master store: tenants, users, memberships, API keys and the platform audit log. */
export interface MasterStore {
  readonly tenants: TenantRepository;
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly keys: ApiKeyRepository;
  readonly audit: PlatformAuditRepository;
  /** Shared request counters for rate limiting across replicas. */
  readonly rateWindows: RateWindowRepository;
  /** Runs `fn` in one transaction; the store passed to it is bound to that transaction. */
  transaction<T>(fn: (tx: MasterStore) => Promise<T>): Promise<T>;
}

export interface AgentRepository {
  /** Throws {@link UniqueViolation} when the tenant already has an agent of that name. */
  insert(agent: AgentRecord): Promise<void>;
  get(id: string): Promise<AgentRecord | undefined>;
  findByName(name: string): Promise<AgentRecord | undefined>;
  list(page: PageRequest): Promise<Page<AgentRecord>>;
  update(id: string, patch: AgentPatch): Promise<AgentRecord | undefined>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
  /**
   * Inside a transaction: the count, with inserts of other transactions held until this one ends,
   * so a limit checked against it cannot be passed by concurrent creates (Postgres locks the
   * table against writers; SQLite's write transactions are serial already).
   */
  countForInsert(): Promise<number>;
}

export interface TenantAuditRepository {
  append(event: AuditRecord): Promise<void>;
  /** Events by id: oldest first (default), or newest first; the cursor continues in the same order. */
  list(page: PageRequest, order?: PageOrder): Promise<Page<AuditRecord>>;
}

export interface ConversationRepository {
  create(conversation: ConversationRecord): Promise<void>;
  get(id: string): Promise<ConversationRecord | undefined>;
  /** Conversations, optionally of one agent, ordered by id. */
  list(page: PageRequest, agentId?: string): Promise<Page<ConversationRecord>>;
  /** Deletes the conversation and its messages; false when there was none. */
  delete(id: string): Promise<boolean>;
  touch(id: string, at: EpochMs): Promise<void>;
  /** Sets the conversation's title (null clears it) without touching it; false when there was none. */
  rename(id: string, title: string | null): Promise<boolean>;
}

export interface MessageRepository {
  append(message: MessageRecord): Promise<void>;
  /** Every message of the conversation, oldest first. */
  listByConversation(conversationId: string): Promise<MessageRecord[]>;
  /** The newest `limit` messages of the conversation, returned oldest first. */
  recent(conversationId: string, limit: number): Promise<MessageRecord[]>;
  /** The conversation's newest user turn; undefined when it has none (or does not exist). */
  lastUserTurn(conversationId: string): Promise<MessageRecord | undefined>;
  /**
   * Regenerate: replaces the turns after the last user turn of `reply.conversationId` with
   * `reply` (whose id must sort after `userMessageId`), and touches the conversation at
   * `reply.createdAt`, atomically (in the caller's transaction, else in one of its own). Returns
   * false, changing nothing, when `userMessageId` is not the conversation's last user turn (a
   * newer turn was committed meanwhile) or the conversation does not exist.
   */
  replaceReplies(userMessageId: string, reply: MessageRecord): Promise<boolean>;
  /**
   * Full-text search over past messages, newest first. `terms` are plain words; each adapter
   * quotes them for its own search syntax, so no user text is ever parsed as query syntax.
   */
  search(terms: string[], agentId: string | undefined, limit: number): Promise<MessageHit[]>;
}

/** A time range [from, to) in epoch ms. */
export interface TimeRange {
  from: EpochMs;
  to: EpochMs;
}

export interface CostEventRepository {
  insert(event: CostEventRecord): Promise<void>;
  list(page: PageRequest, range: TimeRange): Promise<Page<CostEventRecord>>;
  /** The cost events of one conversation, oldest first. */
  listByConversation(conversationId: string): Promise<CostEventRecord[]>;
  summary(range: TimeRange, groupBy: CostGroupBy): Promise<CostSummary>;
}

export interface BudgetRepository {
  /** The budget with its totals for `period` (a new month starts at zero). */
  get(period: string): Promise<BudgetRecord>;
  configure(settings: BudgetSettings, period: string, at: EpochMs): Promise<BudgetRecord>;
  /**
   * Adds `amountUsd` to the reservations in one atomic statement, unless a hard limit would be
   * passed by spent + reserved + amount; returns whether the reservation was made.
   */
  reserve(amountUsd: number, period: string, at: EpochMs): Promise<boolean>;
  /** Releases a reservation and books the real spend; returns the spend before and after. */
  settle(reservedUsd: number, spentUsd: number, period: string, at: EpochMs): Promise<{ before: number; after: BudgetRecord }>;
  /** Records thresholds as notified for the period. */
  markNotified(thresholds: number[], period: string): Promise<void>;
}

export interface ProviderCredentialRepository {
  put(credential: ProviderCredentialRecord): Promise<void>;
  get(provider: string): Promise<ProviderCredentialRecord | undefined>;
  list(): Promise<ProviderCredentialRecord[]>;
  delete(provider: string): Promise<boolean>;
}

/** Everything one tenant owns, in its own physically separate store. */
export interface TenantStore {
  readonly agents: AgentRepository;
  readonly audit: TenantAuditRepository;
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly costs: CostEventRepository;
  readonly budget: BudgetRepository;
  readonly providerCredentials: ProviderCredentialRepository;
  transaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T>;
  /**
   * Like {@link transaction}, but the transaction is shared with the other group work submitted
   * in the same turn of the event loop (group commit, see `group-commit.ts`); resolves once it has
   * committed. `fn` must only write through `tx`, and runs again alone if its batch fails.
   */
  groupTransaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T>;
  /**
   * Calls `reads`, which starts reads of this store without awaiting them, and returns what it
   * returns. A store that can do better with reads started together does: SQLite runs those that
   * start at once in one read transaction (one lock and one snapshot instead of one per
   * statement); Postgres already sends the reads of one turn in one round trip.
   */
  readTogether<T>(reads: () => T): T;
}

/** An open tenant store; closing it releases its file or connection. */
export interface TenantStoreHandle {
  readonly store: TenantStore;
  close(): Promise<void>;
}

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

/** A storage backend: the master store plus the means to make, open and destroy tenant stores. */
export interface StorageBackend {
  readonly kind: 'sqlite' | 'postgres';
  readonly master: MasterStore;
  /** Creates and migrates the tenant's store; on failure nothing of it remains. */
  provisionTenant(tenantId: string): Promise<void>;
  /** Destroys the tenant's store (file, or schema and role) for good. */
  destroyTenant(tenantId: string): Promise<void>;
  /** Opens an existing tenant store, applying pending tenant migrations. */
  openTenant(tenantId: string): Promise<TenantStoreHandle>;
  /** Whether the tenant's store exists. */
  tenantExists(tenantId: string): Promise<boolean>;
  /** Checks for `GET /ready`: the database is reachable and its migrations are current. */
  readiness(): Promise<Record<string, ReadinessCheck>>;
  close(): Promise<void>;
}
