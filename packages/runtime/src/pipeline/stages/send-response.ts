import { need } from '../context.js';
import type { Stage } from './stage.js';

/** Stage 9: the answer the route sends (as JSON, or as the SSE `done` event). */
export const sendResponse: Stage = async (ctx) => {
  const agent = need(ctx.agent, 'agent');
  const result = need(ctx.result, 'result');
  ctx.output = {
    conversationId: need(ctx.conversation, 'conversation').id,
    agentId: agent.id,
    agentName: agent.name,
    model: agent.model,
    message: { id: need(ctx.assistantMessageId, 'assistantMessageId'), role: 'assistant', content: result.text },
    usage: result.usage,
    costUsd: ctx.costUsd ?? null,
    finishReason: result.finishReason,
    aborted: result.outcome === 'aborted',
  };
};
