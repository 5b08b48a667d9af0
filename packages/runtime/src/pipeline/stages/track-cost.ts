import { thresholdsCrossed } from '../../cost/budget-rules.js';
import { newId } from '../../lib/ids.js';
import { auditEntry } from '../../tenants/context.js';
import { need } from '../context.js';
import { budgetPeriod } from '../../cost/budget-service.js';
import type { Stage } from './stage.js';

/**
 * Stage 8: the cost event, the settlement of the budget reservation (real spend in, reservation
 * out) and the queued memory writes, all in one transaction of the tenant store. Thresholds the
 * spend crossed are then audited and sent to the operator's webhook.
 */
export const trackCost: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const result = need(ctx.result, 'result');
  const at = deps.now();
  const period = budgetPeriod(at);
  // Unknown usage at a non-zero price is booked at the reserved worst case: never below the truth.
  const booked = ctx.costUsd ?? ctx.reservedUsd;
  const writes = ctx.writes;
  const settled = await ctx.tenant.store.groupTransaction(async (tx) => {
    for (const write of writes) await write(tx);
    await tx.costs.insert({
      id: newId('costEvent'),
      agentId: agent.id,
      conversationId: need(ctx.conversation, 'conversation').id,
      messageId: ctx.assistantMessageId ?? null,
      provider: agent.provider,
      model: agent.model,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd: ctx.costUsd ?? null,
      latencyMs: result.latencyMs,
      outcome: result.outcome,
      usageEstimated: result.usageEstimated,
      createdAt: at,
    });
    // Nothing reserved and nothing spent (a free model): the budget row is left alone.
    return booked === 0 && ctx.reservedUsd === 0 ? undefined : tx.budget.settle(ctx.reservedUsd, booked, period, at);
  });
  ctx.settled = true;
  deps.recordUsage({
    provider: agent.provider,
    model: agent.model,
    tenant: ctx.tenant.tenant.slug,
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    costUsd: ctx.costUsd ?? null,
    outcome: result.outcome,
  });
  if (!settled) return;
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
};
