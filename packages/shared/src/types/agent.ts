import { z } from 'zod';
import { IsoDate, listOf, text } from './common.js';

export const ProviderName = z.enum(['ollama', 'openai', 'openai-compatible', 'anthropic']);
export type ProviderName = z.infer<typeof ProviderName>;

const agentFields = {
  name: text(100).min(1),
  description: text(2_000).optional(),
  systemPrompt: text(100_000),
  provider: ProviderName,
  model: text(200).min(1),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  /** Built-in tools the agent may call, by name (see `GET /api/tools`). */
  tools: z.array(z.string().min(1).max(64)).max(32).optional(),
  /** Token budget of the context sent to the model (system prompt + recent turns). */
  contextTokens: z.number().int().min(256).max(2_000_000).optional(),
};

/** `POST /api/agents` */
export const CreateAgentBody = z.strictObject(agentFields);
export type CreateAgentBody = z.infer<typeof CreateAgentBody>;

/** `PATCH /api/agents/:id`: any subset of the fields; `null` clears an optional one. */
export const UpdateAgentBody = z
  .strictObject({
    name: agentFields.name.optional(),
    description: agentFields.description.unwrap().nullable().optional(),
    systemPrompt: agentFields.systemPrompt.optional(),
    provider: agentFields.provider.optional(),
    model: agentFields.model.optional(),
    temperature: agentFields.temperature.unwrap().nullable().optional(),
    maxTokens: agentFields.maxTokens.unwrap().nullable().optional(),
    tools: agentFields.tools,
    contextTokens: agentFields.contextTokens.unwrap().nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'at least one field is required');
export type UpdateAgentBody = z.infer<typeof UpdateAgentBody>;

export const Agent = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  systemPrompt: z.string(),
  provider: ProviderName,
  model: z.string(),
  temperature: z.number().nullable(),
  maxTokens: z.number().int().nullable(),
  tools: z.array(z.string()),
  contextTokens: z.number().int().nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type Agent = z.infer<typeof Agent>;

export const AgentList = listOf(Agent);
export type AgentList = z.infer<typeof AgentList>;
