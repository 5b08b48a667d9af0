import { thresholdsCrossed } from '../../cost/budget-rules.js';
import { newId } from '../../lib/ids.js';
import { auditEntry } from '../../tenants/context.js';
import type { BudgetRecord, CostEventRecord } from '../../storage/records.js';
import { need, type PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';
import { budgetPeriod } from '../../cost/budget-service.js';
import type { Stage } from './stage.js';

/** What settling a reservation reports: spend before, and the budget after. */
type SettleResult = { before: number; after: BudgetRecord };

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

/** The cost event and the settlement, with `writes` (the turn) first when given, in one transaction. */
function commit(ctx: PipelineContext, at: number, writes: PipelineContext['writes'], messageId: string | null) {
  // Unknown usage at a non-zero price is booked at the reserved worst case: never below the truth.
  const booked = ctx.costUsd ?? ctx.reservedUsd;
  const period = budgetPeriod(at);
  return ctx.tenant.store.groupTransaction(async (tx): Promise<SettleResult | undefined> => {
    for (const write of writes) await write(tx);
    await tx.costs.insert(costEvent(ctx, at, messageId));
    // Nothing reserved and nothing spent (a free model): the budget row is left alone.
    return booked === 0 && ctx.reservedUsd === 0 ? undefined : tx.budget.settle(ctx.reservedUsd, booked, period, at);
  });
}

/** Counts a booked call into the cost and token metrics (only once its cost event is committed). */
function counted<T>(ctx: PipelineContext, deps: PipelineDeps, settled: T): T {
  const agent = need(ctx.agent, 'agent');
  const result = need(ctx.result, 'result');
  deps.recordUsage({
    provider: agent.provider,
    model: agent.model,
    tenant: ctx.tenant.tenant.slug,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    costUsd: ctx.costUsd ?? null,
    outcome: result.outcome,
  });
  return settled;
}

/**
 * Books a model call that has answered, whatever happens to its turn: the turn and the cost event
 * together when the store takes them; when it refuses the turn, the cost event and the settlement
 * alone (the reply is still delivered, without a stored turn); when even that fails, the
 * reservation is left held, so the money stays counted against the budget as if spent. So a call
 * that reached the model never ends unbooked, and the route never fails for it.
 * @returns the settlement, or undefined when the budget row was not touched
 */
export async function bookCall(ctx: PipelineContext, deps: PipelineDeps): Promise<SettleResult | undefined> {
  const at = deps.now();
  const tenantId = ctx.tenant.tenant.id;
  ctx.settled = true;
  if (ctx.writes.length > 0) {
    try {
      return counted(ctx, deps, await commit(ctx, at, ctx.writes, ctx.assistantMessageId ?? null));
    } catch (error) {
      deps.log.error({ err: error, tenantId }, 'could not save the turn; the model call is booked without it');
    }
  }
  try {
    return counted(ctx, deps, await commit(ctx, at, [], null));
  } catch (error) {
    deps.log.error({ err: error, tenantId, reservedUsd: ctx.reservedUsd }, 'could not book a model call; its reservation stays held as spent');
    return undefined;
  }
}

/**
 * Audits the budget thresholds a settlement crossed (once each) and sends them to the operator's
 * webhook. Called after every booking: a run booked as failed spends money too.
 */
export async function noteThresholds(ctx: PipelineContext, deps: PipelineDeps, settled: SettleResult | undefined): Promise<void> {
  if (!settled) return;
  const at = deps.now();
  const period = budgetPeriod(at);
  const { before, after } = settled;
  if (after.monthlyLimitUsd === null || after.monthlyLimitUsd <= 0) return;
  const crossed = thresholdsCrossed(after.monthlyLimitUsd, after.thresholds, Math.max(0, before), after.spentUsd).filter(
    (pct) => !after.notified.includes(pct),
  );
  if (crossed.length === 0) return;
  await ctx.tenant.store.transaction(async (tx) => {
    await tx.budget.markNotified(crossed, period);
    for (const pct of crossed) {
      const details = { thresholdPct: pct, spentUsd: after.spentUsd, limitUsd: after.monthlyLimitUsd, period };
      await tx.audit.append(auditEntry(ctx.tenant.principal, at, 'budget.threshold_crossed', 'budget', details));
    }
  });
  for (const pct of crossed) {
    deps.notifier.notify({
      tenantId: ctx.tenant.tenant.id,
      tenantSlug: ctx.tenant.tenant.slug,
      thresholdPct: pct,
      spentUsd: after.spentUsd,
      limitUsd: after.monthlyLimitUsd,
      period,
      at: new Date(at).toISOString(),
    });
  }
}

/**
 * Stage 8: the cost event, the settlement of the budget reservation (real spend in, reservation
 * out) and the queued memory writes, all in one transaction of the tenant store (see `bookCall`
 * for when the store refuses). Thresholds the spend crossed are then audited and sent to the
 * operator's webhook.
 */
export const trackCost: Stage = async (ctx, deps) => {
  await noteThresholds(ctx, deps, await bookCall(ctx, deps));
};
