import type Database from 'better-sqlite3';
import { agentFromRow } from '../kysely/tenant-store.js';
import { budgetFromRow, budgetInPeriod } from '../kysely/cost-repositories.js';
import { messageFromRow } from '../kysely/conversation-repositories.js';
import { keyFromRow, keyWithTenantFromRow, tenantFromRow, type KeyWithTenantRow } from '../kysely/master-store.js';
import { credentialFromRow } from '../kysely/provider-credential-repository.js';
import type {
  AgentsTable,
  ApiKeysTable,
  BudgetTable,
  MessagesTable,
  ProviderCredentialsTable,
  TenantsTable,
} from '../kysely/tables.js';
import type { MasterStore, TenantStore } from '../port.js';
import type { CachedDatabase } from './open-database.js';

/**
 * The statements every message runs, as prepared better-sqlite3 statements beside Kysely.
 *
 * Building and compiling a query in Kysely costs more CPU than SQLite takes to run these point
 * reads and single-row inserts, and each message runs about ten of them. The stores below take the
 * Kysely store and replace those few methods; everything else, and every other dialect, stays on
 * Kysely. The SQL here must do exactly what the Kysely method it replaces does: the storage
 * conformance suite runs against these stores.
 *
 * Kysely and these statements share one connection, so two rules keep them apart:
 * - outside a transaction a direct statement only reads, and only while no transaction is open
 *   on the connection (a Kysely transaction between two of its awaits); otherwise the Kysely
 *   method runs instead, which waits for that transaction to end;
 * - inside a transaction, which holds Kysely's lock on the connection for its whole length,
 *   direct statements read and write.
 */

const TENANT_SQL = {
  agentById: 'SELECT * FROM agents WHERE id = ?',
  agentByName: 'SELECT * FROM agents WHERE name = ?',
  credential: 'SELECT * FROM provider_credentials WHERE provider = ?',
  budget: 'SELECT * FROM budget WHERE id = 1',
  recent: 'SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?',
  createConversation:
    'INSERT INTO conversations (id, agent_id, user_id, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  touchConversation: 'UPDATE conversations SET updated_at = ? WHERE id = ?',
  appendMessage: 'INSERT INTO messages (id, conversation_id, role, content, tokens, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  insertCost:
    'INSERT INTO cost_events (id, agent_id, conversation_id, message_id, provider, model, input_tokens, output_tokens, ' +
    'cost_usd, latency_ms, outcome, usage_estimated, usage_anomaly, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
};

/**
 * Wraps a tenant store (root or transaction-bound, see `TenantDialect.decorate`) so that its hot
 * methods run direct statements on `db`.
 */
export function directTenantStore(db: Database.Database, cache: CachedDatabase) {
  const st = (key: keyof typeof TENANT_SQL) => cache.prepare(TENANT_SQL[key]);
  return (store: TenantStore, inTransaction: boolean): TenantStore => {
    /** Reads directly when that is safe (see above), else through Kysely. */
    const read = <T>(direct: () => T, viaKysely: () => Promise<T>): Promise<T> =>
      inTransaction || !db.inTransaction ? promised(direct) : viaKysely();
    /** Writes directly inside a transaction; a lone write stays on Kysely, which locks for it. */
    const write = (direct: () => void, viaKysely: () => Promise<void>): Promise<void> =>
      inTransaction ? promised(direct) : viaKysely();
    const { agents, providerCredentials, budget, conversations, messages, costs } = store;
    return {
      ...store,
      agents: {
        ...agents,
        get: (id) => read(() => optional(st('agentById').get(id) as AgentsTable | undefined, agentFromRow), () => agents.get(id)),
        findByName: (name) =>
          read(() => optional(st('agentByName').get(name) as AgentsTable | undefined, agentFromRow), () => agents.findByName(name)),
      },
      providerCredentials: {
        ...providerCredentials,
        get: (provider) =>
          read(
            () => optional(st('credential').get(provider) as ProviderCredentialsTable | undefined, credentialFromRow),
            () => providerCredentials.get(provider),
          ),
      },
      budget: {
        ...budget,
        get: (period) =>
          read(() => budgetInPeriod(budgetFromRow(st('budget').get() as BudgetTable), period), () => budget.get(period)),
      },
      conversations: {
        ...conversations,
        create: (c) =>
          write(
            () => st('createConversation').run(c.id, c.agentId, c.userId, c.source, c.createdAt, c.updatedAt),
            () => conversations.create(c),
          ),
        touch: (id, at) => write(() => st('touchConversation').run(at, id), () => conversations.touch(id, at)),
      },
      messages: {
        ...messages,
        recent: (conversationId, limit) =>
          read(
            () => (st('recent').all(conversationId, limit) as MessagesTable[]).reverse().map(messageFromRow),
            () => messages.recent(conversationId, limit),
          ),
        append: (m) =>
          write(
            () => st('appendMessage').run(m.id, m.conversationId, m.role, m.content, m.tokens, m.createdAt),
            () => messages.append(m),
          ),
      },
      costs: {
        ...costs,
        insert: (e) =>
          write(
            () =>
              st('insertCost').run(
                e.id,
                e.agentId,
                e.conversationId,
                e.messageId,
                e.provider,
                e.model,
                e.inputTokens,
                e.outputTokens,
                e.costUsd,
                e.latencyMs,
                e.outcome,
                e.usageEstimated ? 1 : 0,
                e.usageAnomaly,
                e.createdAt,
              ),
            () => costs.insert(e),
          ),
      },
    };
  };
}

const MASTER_SQL = {
  keyByHash: 'SELECT * FROM api_keys WHERE hash = ?',
  keyWithTenantByHash:
    'SELECT k.*, t.slug AS t_slug, t.name AS t_name, t.owner AS t_owner, t.plan AS t_plan, t.status AS t_status, ' +
    't.created_at AS t_created_at, t.updated_at AS t_updated_at, t.deleted_at AS t_deleted_at, t.limit_overrides AS t_limit_overrides ' +
    'FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?',
  tenantById: 'SELECT * FROM tenants WHERE id = ?',
};

/** The master store's reads on every request (the key with its tenant, or each alone), direct; see above. */
export function directMasterStore(db: Database.Database, cache: CachedDatabase) {
  const st = (key: keyof typeof MASTER_SQL) => cache.prepare(MASTER_SQL[key]);
  return (store: MasterStore, inTransaction: boolean): MasterStore => {
    const read = <T>(direct: () => T, viaKysely: () => Promise<T>): Promise<T> =>
      inTransaction || !db.inTransaction ? promised(direct) : viaKysely();
    const { keys, tenants } = store;
    return {
      ...store,
      keys: {
        ...keys,
        findByHash: (hash) =>
          read(() => optional(st('keyByHash').get(hash) as ApiKeysTable | undefined, keyFromRow), () => keys.findByHash(hash)),
        findByHashWithTenant: (hash) =>
          read(
            () => optional(st('keyWithTenantByHash').get(hash) as KeyWithTenantRow | undefined, keyWithTenantFromRow),
            () => keys.findByHashWithTenant(hash),
          ),
      },
      tenants: {
        ...tenants,
        findById: (id) =>
          read(() => optional(st('tenantById').get(id) as TenantsTable | undefined, tenantFromRow), () => tenants.findById(id)),
      },
    };
  };
}

/** A synchronous call as a promise: its result, or its error as a rejection. */
function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

function optional<R, T>(row: R | undefined, map: (row: R) => T): T | undefined {
  return row === undefined ? undefined : map(row);
}
