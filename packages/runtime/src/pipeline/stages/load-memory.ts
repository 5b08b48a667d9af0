import { AppError } from '../../lib/app-error.js';
import { selectContext } from '../../memory/context-window.js';
import type { ChatMessage } from '../../providers/types.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/** How many stored turns are read before the context window picks the ones that fit. */
const RECENT_TURNS = 200;

/**
 * Stage 3: the context sent to the model is the system prompt plus the most recent turns that fit
 * the agent's context budget, then the new user turn. Older turns stay stored for search.
 */
export const loadMemory: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const conversation = need(ctx.conversation, 'conversation');
  const content = need(ctx.content, 'content');
  const earlier =
    ctx.input.history ??
    (conversation.isNew
      ? []
      : (await ctx.tenant.store.messages.recent(conversation.id, RECENT_TURNS)).map(
          (m): ChatMessage => ({ role: m.role, content: m.content }),
        ));
  const turns = [...earlier.filter((m) => m.role !== 'system'), { role: 'user' as const, content }];
  const budget = agent.contextTokens ?? deps.defaultContextTokens;
  const reply = Math.min(agent.maxTokens ?? deps.defaultMaxTokens, Math.floor(budget / 2));
  const selection = selectContext(
    agent.systemPrompt,
    turns.map((t) => ({ ...t, role: t.role === 'system' ? 'user' : t.role })),
    budget,
    reply,
  );
  if (selection.overflow) {
    throw new AppError('VALIDATION_FAILED', `content: longer than the agent's context budget of ${budget} tokens`);
  }
  const kept = turns.slice(turns.length - selection.turns.length);
  const clientSystem = earlier.filter((m) => m.role === 'system');
  ctx.messages = [
    ...(agent.systemPrompt === '' ? [] : [{ role: 'system' as const, content: agent.systemPrompt }]),
    ...clientSystem,
    ...kept,
  ];
};
