import type { Kysely } from 'kysely';
import type { ProviderName } from '@agentik/shared';
import { GroupCommit } from '../group-commit.js';
import { UniqueViolation, type TenantStore } from '../port.js';
import type { AgentRecord, AuditRecord } from '../records.js';
import { createConversationRepository, createMessageRepository, type MessageSearch } from './conversation-repositories.js';
import { createBudgetRepository, createCostEventRepository } from './cost-repositories.js';
import { compileOnce, kyselyRunner, type QueryRunner } from './compiled-query.js';
import type { UniqueViolationTest } from './master-store.js';
import { toPage } from './paging.js';
import { createProviderCredentialRepository } from './provider-credential-repository.js';
import type { AgentsTable, AuditTable, TenantDb } from './tables.js';

export function agentFromRow(r: AgentsTable): AgentRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    systemPrompt: r.system_prompt,
    provider: r.provider as ProviderName,
    model: r.model,
    temperature: r.temperature === null ? null : Number(r.temperature),
    maxTokens: r.max_tokens === null ? null : Number(r.max_tokens),
    tools: JSON.parse(r.tools) as string[],
    contextTokens: r.context_tokens === null ? null : Number(r.context_tokens),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function auditFromRow(r: AuditTable): AuditRecord {
  return {
    id: r.id,
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

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
}

const agentById = compileOnce((db: Kysely<TenantDb>, id: string) => db.selectFrom('agents').selectAll().where('id', '=', id));
const agentByName = compileOnce((db: Kysely<TenantDb>, name: string) => db.selectFrom('agents').selectAll().where('name', '=', name));

/** One tenant's store over any Kysely dialect; `db` must already be scoped to that tenant. */
export function createKyselyTenantStore(db: Kysely<TenantDb>, dialect: TenantDialect, inTransaction = false): TenantStore {
  const { isUnique } = dialect;
  const runner = dialect.runner?.(inTransaction) ?? kyselyRunner;
  const rethrow = (error: unknown, name: string | undefined): never => {
    if (isUnique(error)) throw new UniqueViolation(`an agent named "${name ?? ''}"`);
    throw error;
  };
  const base: TenantStore = {
    agents: {
      async insert(a) {
        try {
          await db
            .insertInto('agents')
            .values({
              id: a.id,
              name: a.name,
              description: a.description,
              system_prompt: a.systemPrompt,
              provider: a.provider,
              model: a.model,
              temperature: a.temperature,
              max_tokens: a.maxTokens,
              tools: JSON.stringify(a.tools),
              context_tokens: a.contextTokens,
              created_at: a.createdAt,
              updated_at: a.updatedAt,
            })
            .execute();
        } catch (error) {
          rethrow(error, a.name);
        }
      },
      async get(id) {
        const [row] = await runner.read(db, agentById(db, id));
        return row && agentFromRow(row);
      },
      async findByName(name) {
        const [row] = await runner.read(db, agentByName(db, name));
        return row && agentFromRow(row);
      },
      async list(page) {
        let q = db.selectFrom('agents').selectAll().orderBy('id').limit(page.limit + 1);
        if (page.after !== undefined) q = q.where('id', '>', page.after);
        return toPage(await q.execute(), page, agentFromRow);
      },
      async update(id, p) {
        const set: Partial<AgentsTable> = { updated_at: p.updatedAt };
        if (p.name !== undefined) set.name = p.name;
        if (p.description !== undefined) set.description = p.description;
        if (p.systemPrompt !== undefined) set.system_prompt = p.systemPrompt;
        if (p.provider !== undefined) set.provider = p.provider;
        if (p.model !== undefined) set.model = p.model;
        if (p.temperature !== undefined) set.temperature = p.temperature;
        if (p.maxTokens !== undefined) set.max_tokens = p.maxTokens;
        if (p.tools !== undefined) set.tools = JSON.stringify(p.tools);
        if (p.contextTokens !== undefined) set.context_tokens = p.contextTokens;
        try {
          const row = await db.updateTable('agents').set(set).where('id', '=', id).returningAll().executeTakeFirst();
          return row && agentFromRow(row);
        } catch (error) {
          return rethrow(error, p.name);
        }
      },
      async delete(id) {
        const result = await db.deleteFrom('agents').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
      async count() {
        const row = await db
          .selectFrom('agents')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
      async countForInsert() {
        if (inTransaction && dialect.lockTable) await dialect.lockTable(db, 'agents');
        return store.agents.count();
      },
    },
    audit: {
      async append(e) {
        await db
          .insertInto('audit_events')
          .values({
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            details: JSON.stringify(e.details),
          })
          .execute();
      },
      async list(page) {
        let q = db.selectFrom('audit_events').selectAll().orderBy('id').limit(page.limit + 1);
        if (page.after !== undefined) q = q.where('id', '>', page.after);
        return toPage(await q.execute(), page, auditFromRow);
      },
    },
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
  };
  let group: GroupCommit<TenantStore> | undefined;
  const store = dialect.decorate ? dialect.decorate(base, inTransaction) : base;
  return store;
}
