import { AppError, notFound } from '../lib/app-error.js';
import type { TenantContext } from '../tenants/context.js';
import type { MessageInput } from './context.js';

/**
 * What a regenerate of the conversation asks of the pipeline: its last user turn, answered again
 * by its agent, without storing the turn a second time (see `MessageInput.regenerate`).
 * NOT_FOUND for an unknown conversation, CONFLICT for one without a user turn.
 */
export async function regenerateInput(ctx: TenantContext, conversationId: string): Promise<MessageInput> {
  const conversation = await ctx.store.conversations.get(conversationId);
  if (!conversation) throw notFound('conversation');
  const turn = await ctx.store.messages.lastUserTurn(conversation.id);
  if (!turn) throw new AppError('CONFLICT', 'conversation: has no user message to answer again');
  return {
    agentRef: conversation.agentId,
    content: turn.content,
    conversationId: conversation.id,
    source: conversation.source,
    regenerate: { userMessageId: turn.id, conversation },
  };
}
