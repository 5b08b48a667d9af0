import { AppError } from '../../lib/app-error.js';
import { selectContext } from '../../memory/context-window.js';
import type { ChatMessage } from '../../providers/types.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/**
 * Stage 3: the context sent to the model is the system prompt plus the most recent turns that fit
 * the agent's context budget, then the new user turn. Older turns stay stored for search. The
 * output bound is set here too, since the window keeps room for it: the agent's `maxTokens`, at
 * most half the context budget.
 */
export const loadMemory: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const conversation = need(ctx.conversation, 'conversation');
  const content = need(ctx.content, 'content');
  // Stored turns keep their recorded size, so the window does not estimate them again.
  const earlier: Array<ChatMessage & { tokens?: number | null }> =
    ctx.input.history ??
    (conversation.isNew
      ? []
      : (await need(ctx.reads.recent, 'recent turns')).filter(before(ctx.input.regenerate?.userMessageId)).map((m) => ({
          role: m.role,
          content: m.content,
          tokens: m.tokens,
        })));
  const clientSystem = earlier.filter((m) => m.role === 'system');
  const turns = [...earlier.filter(isTurn), { role: 'user' as const, content }];
  const budget = agent.contextTokens ?? deps.defaultContextTokens;
  const reply = Math.min(agent.maxTokens ?? deps.defaultMaxTokens, Math.floor(budget / 2));
  // System messages a client sends (OpenAI-compatible history) take room like the agent's own.
  const systemText = [agent.systemPrompt, ...clientSystem.map((m) => m.content)].filter((t) => t !== '').join('\n\n');
  const selection = selectContext(systemText, turns, budget, reply);
  if (selection.overflow) {
    throw new AppError('VALIDATION_FAILED', `content: longer than the agent's context budget of ${budget} tokens`);
  }
  ctx.maxTokens = reply;
  ctx.messages = [
    ...(agent.systemPrompt === '' ? [] : [{ role: 'system' as const, content: agent.systemPrompt }]),
    ...clientSystem.map((m) => ({ role: m.role, content: m.content })),
    ...turns.slice(turns.length - selection.turns.length).map((t) => ({ role: t.role, content: t.content })),
  ];
};

/** Regenerate answers its user turn again: the turns from it on (the replies it replaces) are not memory. */
function before(userMessageId: string | undefined): (m: { id: string }) => boolean {
  return userMessageId === undefined ? () => true : (m) => m.id < userMessageId;
}

function isTurn<T extends ChatMessage>(m: T): m is T & { role: Exclude<ChatMessage['role'], 'system'> } {
  return m.role !== 'system';
}
