import { newId } from '../../lib/ids.js';
import { estimateMessageTokens } from '../../memory/tokens.js';
import type { TenantStore } from '../../storage/port.js';
import type { CostEventRecord } from '../../storage/records.js';
import { need, type Booking, type PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';
import type { Stage } from './stage.js';

/** Writes into one tenant transaction. */
type Writes = (tx: TenantStore) => Promise<void>;

/** The cost event of this run; `messageId` is null when the turn itself could not be saved. */
function costEvent(ctx: PipelineContext, at: number, messageId: string | null): CostEventRecord {
  const agent = need(ctx.agent, 'agent');
  const result = need(ctx.result, 'result');
  return {
    id: newId('costEvent'),
    agentId: agent.id,
    conversationId: need(ctx.conversation, 'conversation').id,
    messageId,
    provider: agent.provider,
    model: agent.model,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    costUsd: ctx.costUsd ?? null,
    latencyMs: result.latencyMs,
    outcome: result.outcome,
    usageEstimated: result.usageEstimated,
    usageAnomaly: result.usageAnomaly,
    createdAt: at,
  };
}

/** The cost event after `turn`, and the settlement of the reservation, in one transaction. */
function commit(ctx: PipelineContext, at: number, turn: Writes | undefined, messageId: string | null) {
  // Unknown usage at a non-zero price is booked at the reserved worst case: never below the truth.
  const booked = ctx.costUsd ?? ctx.reservation.reservedUsd;
  return ctx.reservation.settle(booked, async (tx) => {
    if (turn) await turn(tx);
    await tx.costs.insert(costEvent(ctx, at, messageId));
  });
}

/**
 * Books a model call that has answered, whatever happens to its turn: the turn (when given), the
 * cost event and the settlement together when the store takes them; when it refuses the turn, the
 * cost event and the settlement alone (the reply is still delivered, without a stored turn); when
 * even that fails, the reservation is left held, so the money stays counted against the budget as
 * if spent. So a call that reached the model never ends unbooked, and the route never fails for
 * it. Sets `ctx.booking`.
 */
export async function bookCall(ctx: PipelineContext, deps: PipelineDeps, turn?: { writes: Writes; messageId: string }): Promise<Booking> {
  const at = deps.now();
  const tenantId = ctx.tenant.tenant.id;
  ctx.booking = { booked: false, settlement: undefined };
  if (turn) {
    try {
      ctx.booking = { booked: true, settlement: await commit(ctx, at, turn.writes, turn.messageId) };
      return ctx.booking;
    } catch (error) {
      deps.log.error({ err: error, tenantId }, 'could not save the turn; the model call is booked without it');
    }
  }
  try {
    ctx.booking = { booked: true, settlement: await commit(ctx, at, undefined, null) };
  } catch (error) {
    deps.log.error({ err: error, tenantId, reservedUsd: ctx.reservation.reservedUsd }, 'could not book a model call; its reservation stays held as spent');
  }
  return ctx.booking;
}

/**
 * Stage 7: commits the turn in one transaction of the tenant store: the conversation (when new),
 * the user turn, the assistant turn, the cost event, and the settlement of the budget reservation
 * (real spend in, reservation out). A regenerate stores no user turn: its reply replaces the
 * replies after the user turn it answered, in that same transaction. `bookCall` says what is kept
 * when the store refuses. A run whose model call failed never gets here, so an outage never leaves
 * half a conversation behind, and a failed regenerate leaves the old reply in place.
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
  const writes: Writes = async (tx) => {
    if (conversation.isNew) {
      await tx.conversations.create({
        id: conversation.id,
        agentId: agent.id,
        userId: ctx.input.userId ?? null,
        source: ctx.input.source,
        createdAt: ctx.startedAt,
        updatedAt: at,
      });
    }
    const reply = { id: assistantId, conversationId: conversation.id, role: 'assistant' as const, content: result.text, tokens: result.usage.outputTokens, createdAt: at };
    const { regenerate } = ctx.input;
    if (regenerate) {
      // A turn committed since the run began is newer than the one answered: keep it, and book the call alone.
      if (!(await tx.messages.replaceReplies(regenerate.userMessageId, reply))) throw new Error('regenerate: the conversation has a newer turn');
      return;
    }
    if (!conversation.isNew) await tx.conversations.touch(conversation.id, at);
    await tx.messages.append({
      id: userId,
      conversationId: conversation.id,
      role: 'user',
      content,
      tokens: estimateMessageTokens(content),
      createdAt: ctx.startedAt,
    });
    await tx.messages.append(reply);
  };
  await bookCall(ctx, deps, { writes, messageId: assistantId });
};
