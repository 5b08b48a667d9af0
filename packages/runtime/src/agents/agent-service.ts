import { limitValues, type CreateAgentBody, type UpdateAgentBody } from '@agentik/shared';
import { AppError, notFound } from '../lib/app-error.js';
import { newId } from '../lib/ids.js';
import { UniqueViolation } from '../storage/port.js';
import type { AgentPatch, AgentRecord, Page, PageRequest } from '../storage/records.js';
import { auditEntry, type TenantContext } from '../tenants/context.js';
import { limitAllows } from '../tenants/manager.js';
import { unknownTools } from '../tools/registry.js';

function checkTools(tools: string[] | undefined): void {
  const unknown = unknownTools(tools ?? []);
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `tools: unknown tool ${unknown.map((t) => t.slice(0, 64)).join(', ')}`);
}

/** Agents of the tenant in `ctx`; every call reads and writes that tenant's store only. */
export async function listAgents(ctx: TenantContext, page: PageRequest): Promise<Page<AgentRecord>> {
  return ctx.store.agents.list(page);
}

export async function getAgent(ctx: TenantContext, id: string): Promise<AgentRecord> {
  const agent = await ctx.store.agents.get(id);
  if (!agent) throw notFound('agent');
  return agent;
}

function conflict(error: unknown): never {
  if (error instanceof UniqueViolation) throw new AppError('CONFLICT', `${error.what} already exists in this tenant`);
  throw error;
}

export async function createAgent(ctx: TenantContext, body: CreateAgentBody, now = Date.now()): Promise<AgentRecord> {
  checkTools(body.tools);
  const agent: AgentRecord = {
    id: newId('agent'),
    name: body.name,
    description: body.description ?? null,
    systemPrompt: body.systemPrompt,
    provider: body.provider,
    model: body.model,
    temperature: body.temperature ?? null,
    maxTokens: body.maxTokens ?? null,
    tools: body.tools ?? [],
    contextTokens: body.contextTokens ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const limit = limitValues(ctx.tenant.plan, ctx.tenant.limitOverrides).maxAgents;
  await ctx.store
    .transaction(async (tx) => {
      if ((await tx.agents.countForInsert()) >= limit) {
        throw new AppError('PLAN_LIMIT_REACHED', limitAllows(ctx.tenant, 'maxAgents', 'agents'));
      }
      await tx.agents.insert(agent);
      const details = { name: agent.name, provider: agent.provider, model: agent.model };
      await tx.audit.append(auditEntry(ctx.principal, now, 'agent.created', `agent:${agent.id}`, details));
    })
    .catch(conflict);
  return agent;
}

export async function updateAgent(
  ctx: TenantContext,
  id: string,
  body: UpdateAgentBody,
  now = Date.now(),
): Promise<AgentRecord> {
  checkTools(body.tools);
  const patch: AgentPatch = { updatedAt: now };
  if (body.name !== undefined) patch.name = body.name;
  if (body.description !== undefined) patch.description = body.description;
  if (body.systemPrompt !== undefined) patch.systemPrompt = body.systemPrompt;
  if (body.provider !== undefined) patch.provider = body.provider;
  if (body.model !== undefined) patch.model = body.model;
  if (body.temperature !== undefined) patch.temperature = body.temperature;
  if (body.maxTokens !== undefined) patch.maxTokens = body.maxTokens;
  if (body.tools !== undefined) patch.tools = body.tools;
  if (body.contextTokens !== undefined) patch.contextTokens = body.contextTokens;
  const updated = await ctx.store
    .transaction(async (tx) => {
      const agent = await tx.agents.update(id, patch);
      if (!agent) return undefined;
      await tx.audit.append(auditEntry(ctx.principal, now, 'agent.updated', `agent:${id}`, { fields: Object.keys(body) }));
      return agent;
    })
    .catch(conflict);
  if (!updated) throw notFound('agent');
  return updated;
}

export async function deleteAgent(ctx: TenantContext, id: string, now = Date.now()): Promise<void> {
  const deleted = await ctx.store.transaction(async (tx) => {
    if (!(await tx.agents.delete(id))) return false;
    await tx.audit.append(auditEntry(ctx.principal, now, 'agent.deleted', `agent:${id}`));
    return true;
  });
  if (!deleted) throw notFound('agent');
}
