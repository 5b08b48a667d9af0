import { newId } from '../../lib/ids.js';
import { estimateMessageTokens } from '../../memory/tokens.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/**
 * Stage 7: the conversation (when new), the user turn and the assistant turn, queued to be
 * committed with the cost event in one transaction by track-cost. Nothing is written when the
 * model call failed, so an outage never leaves half a conversation behind.
 */
export const saveMemory: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const conversation = need(ctx.conversation, 'conversation');
  const result = need(ctx.result, 'result');
  const content = need(ctx.content, 'content');
  const at = deps.now();
  // The user turn's id first: messages are read back in id order, and the user spoke first.
  const userId = newId('message');
  const assistantId = newId('message');
  ctx.assistantMessageId = assistantId;
  ctx.writes.push(async (tx) => {
    if (conversation.isNew) {
      await tx.conversations.create({
        id: conversation.id,
        agentId: agent.id,
        userId: ctx.input.userId ?? null,
        source: ctx.input.source,
        createdAt: ctx.startedAt,
        updatedAt: at,
      });
    } else {
      await tx.conversations.touch(conversation.id, at);
    }
    await tx.messages.append({
      id: userId,
      conversationId: conversation.id,
      role: 'user',
      content,
      tokens: estimateMessageTokens(content),
      createdAt: ctx.startedAt,
    });
    await tx.messages.append({
      id: assistantId,
      conversationId: conversation.id,
      role: 'assistant',
      content: result.text,
      tokens: result.usage.outputTokens,
      createdAt: at,
    });
  });
};
