import type { Kysely } from 'kysely';
import type { ProviderName } from '@agentik/shared';
import { UniqueViolation, type AgentRepository } from '../port.js';
import type { AgentRecord } from '../records.js';
import { compileOnce, type QueryRunner } from './compiled-query.js';
import type { UniqueViolationTest } from './master-store.js';
import { toPage } from './paging.js';
import type { AgentsTable, TenantDb } from './tables.js';

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

const agentById = compileOnce((db: Kysely<TenantDb>, id: string) => db.selectFrom('agents').selectAll().where('id', '=', id));
const agentByName = compileOnce((db: Kysely<TenantDb>, name: string) => db.selectFrom('agents').selectAll().where('name', '=', name));

/** What the agent repository needs of its store: the dialect's unique test and table lock. */
export interface AgentRepositoryOptions {
  isUnique: UniqueViolationTest;
  /** Held until the transaction ends, so concurrent creates count one after the other (see `TenantDialect.lockTable`). */
  lockTable?: ((db: Kysely<TenantDb>, table: 'agents') => Promise<void>) | undefined;
  inTransaction: boolean;
}

/** A tenant's agents: unique names, pages by id, and a count that concurrent creates cannot race. */
export function createAgentRepository(db: Kysely<TenantDb>, runner: QueryRunner, options: AgentRepositoryOptions): AgentRepository {
  const { isUnique, lockTable, inTransaction } = options;
  const rethrow = (error: unknown, name: string | undefined): never => {
    if (isUnique(error)) throw new UniqueViolation(`an agent named "${name ?? ''}"`);
    throw error;
  };
  const repository: AgentRepository = {
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
      if (inTransaction && lockTable) await lockTable(db, 'agents');
      return repository.count();
    },
  };
  return repository;
}
