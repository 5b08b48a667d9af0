import { AppError, notFound } from '../../lib/app-error.js';
import { newId } from '../../lib/ids.js';
import { namesAgentByName } from '../run-reads.js';
import type { Stage } from './stage.js';

/**
 * Stage 2: find the agent (by id, else by name) and the conversation to continue or start, from
 * the run's reads (`run-reads.ts`).
 */
export const route: Stage = async (ctx) => {
  const { store } = ctx.tenant;
  const ref = ctx.input.agentRef;
  // The OpenAI-compatible API names agents as models (by name, as /v1/models lists them); the
  // REST API by id; a regenerate names the conversation's agent by id, whichever API the
  // conversation came from. Each tries its usual form first (read with the run's other reads),
  // then the other.
  const agent = (await ctx.reads.agent) ?? (namesAgentByName(ctx.input) ? await store.agents.get(ref) : await store.agents.findByName(ref));
  if (!agent) throw notFound('agent');
  ctx.agent = agent;
  ctx.sink.onAgent?.(agent.name);
  const { conversationId, userId } = ctx.input;
  if (conversationId === undefined) {
    ctx.conversation = { id: newId('conversation'), isNew: true };
    return;
  }
  const conversation = await ctx.reads.conversation;
  // Another agent's conversation, or another end-user's, reads exactly like one that never existed.
  if (!conversation || conversation.agentId !== agent.id || (userId !== undefined && conversation.userId !== userId)) {
    throw notFound('conversation');
  }
  if (conversation.source !== ctx.input.source) throw new AppError('VALIDATION_FAILED', 'conversationId: belongs to another API');
  ctx.conversation = { id: conversation.id, isNew: false };
};
