import { thresholdsCrossed } from '../../cost/budget-rules.js';
import { budgetPeriod } from '../../cost/budget-service.js';
import { auditEntry } from '../../tenants/context.js';
import type { Settlement } from '../budget-reservation.js';
import { need, type PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';
import type { Stage } from './stage.js';

/** Counts a booked call into the cost and token metrics (only once its cost event is committed). */
function countUsage(ctx: PipelineContext, deps: PipelineDeps): void {
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
}

/**
 * Audits the budget thresholds a settlement crossed (once each) and sends them to the operator's
 * webhook. Called after every booking: a run booked as failed spends money too.
 */
async function noteThresholds(ctx: PipelineContext, deps: PipelineDeps, settled: Settlement | undefined): Promise<void> {
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
 * Stage 8: what the booking of the call (`ctx.booking`, made by save-memory) means for cost
 * tracking: the call counted into the cost and token metrics once its cost event is stored, and
 * the budget thresholds its spend crossed audited and sent to the operator's webhook. The
 * orchestrator runs it too after booking a run that failed once its model had answered.
 */
export const trackCost: Stage = async (ctx, deps) => {
  const booking = need(ctx.booking, 'booking');
  if (!booking.booked) return;
  countUsage(ctx, deps);
  await noteThresholds(ctx, deps, booking.settlement);
};
