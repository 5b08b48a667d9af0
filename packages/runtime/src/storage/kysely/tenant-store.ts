import type { Kysely } from 'kysely';
import { GroupCommit } from '../group-commit.js';
import type { TenantStore } from '../port.js';
import { createAgentRepository } from './agent-repository.js';
import { createTenantAuditRepository } from './audit-repository.js';
import { createConversationRepository, createMessageRepository, type MessageSearch } from './conversation-repositories.js';
import { createBudgetRepository, createCostEventRepository } from './cost-repositories.js';
import { kyselyRunner, type QueryRunner } from './compiled-query.js';
import type { UniqueViolationTest } from './master-store.js';
import { createProviderCredentialRepository } from './provider-credential-repository.js';
import type { TenantDb } from './tables.js';

/** What differs between SQL dialects in a tenant store. */
export interface TenantDialect {
  isUnique: UniqueViolationTest;
  searchMessages: MessageSearch;
  /**
   * Replaces some methods of each store built here, the root one and each transaction's
   * (SQLite hooks its indexer and checkpointer onto each transaction's end).
   */
  decorate?: (store: TenantStore, inTransaction: boolean) => TenantStore;
  /**
   * Runs the queries compiled once (see `compileOnce`) of the root store (`false`) or a
   * transaction's (`true`); Kysely's executor when unset.
   */
  runner?: (inTransaction: boolean) => QueryRunner;
  /**
   * Holds other transactions' writes to `table` until this transaction ends (a limit checked
   * against a count). Unset where write transactions are serial already (SQLite).
   */
  lockTable?: (db: Kysely<TenantDb>, table: 'agents') => Promise<void>;
  /** The root store's `readTogether`; a plain call when unset (and always in a transaction). */
  readTogether?: <T>(reads: () => T) => T;
}

/** One tenant's store over any Kysely dialect; `db` must already be scoped to that tenant. */
export function createKyselyTenantStore(db: Kysely<TenantDb>, dialect: TenantDialect, inTransaction = false): TenantStore {
  const runner = dialect.runner?.(inTransaction) ?? kyselyRunner;
  const base: TenantStore = {
    agents: createAgentRepository(db, runner, { isUnique: dialect.isUnique, lockTable: dialect.lockTable, inTransaction }),
    audit: createTenantAuditRepository(db),
    conversations: createConversationRepository(db, runner),
    messages: createMessageRepository(db, dialect.searchMessages, runner),
    costs: createCostEventRepository(db, runner),
    budget: createBudgetRepository(db, runner),
    providerCredentials: createProviderCredentialRepository(db, runner),
    async transaction(fn) {
      if (inTransaction) return fn(store);
      return db.transaction().execute((trx) => fn(createKyselyTenantStore(trx, dialect, true)));
    },
    groupTransaction(fn) {
      if (inTransaction) return fn(store);
      group ??= new GroupCommit<TenantStore>((work) => store.transaction(work));
      return group.submit(fn);
    },
    readTogether(reads) {
      return inTransaction || !dialect.readTogether ? reads() : dialect.readTogether(reads);
    },
  };
  let group: GroupCommit<TenantStore> | undefined;
  const store = dialect.decorate ? dialect.decorate(base, inTransaction) : base;
  return store;
}
