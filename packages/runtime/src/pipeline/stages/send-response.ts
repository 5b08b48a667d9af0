import { need } from '../context.js';
import type { Stage } from './stage.js';

/**
 * Stage 9: the answer, handed to the caller's sink (a stream writes it as its final event, the
 * SSE `done` event or `/v1`'s last chunk and `[DONE]`) and returned by the run (sent as JSON).
 */
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
  ctx.sink.onDone?.(ctx.output);
};
