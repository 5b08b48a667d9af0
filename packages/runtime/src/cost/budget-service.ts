import type { BudgetBody } from '@agentik/shared';
import { budgetMonthWindow } from './budget-rules.js';
import type { BudgetRecord } from '../storage/records.js';
import { auditEntry, type TenantContext } from '../tenants/context.js';

/** The month {@link budgetPeriod} last answered, as epoch-ms bounds: every run asks several times. */
let lastMonth: { from: number; to: number; month: string } | undefined;

/** The budget month of an instant, `YYYY-MM` in UTC. */
export function budgetPeriod(at: number): string {
  if (lastMonth !== undefined && at >= lastMonth.from && at < lastMonth.to) return lastMonth.month;
  const { month, from, to } = budgetMonthWindow(at);
  lastMonth = { from: from.getTime(), to: to.getTime(), month };
  return month;
}

export function getBudget(ctx: TenantContext, now = Date.now()): Promise<BudgetRecord> {
  return ctx.store.budget.get(budgetPeriod(now));
}

/** Sets the tenant's budget and audits the change. */
export async function setBudget(ctx: TenantContext, body: Required<BudgetBody>, now = Date.now()): Promise<BudgetRecord> {
  const thresholds = [...new Set(body.thresholds)].sort((a, b) => a - b);
  return ctx.store.transaction(async (tx) => {
    const budget = await tx.budget.configure({ monthlyLimitUsd: body.monthlyLimitUsd, hard: body.hard, thresholds }, budgetPeriod(now), now);
    const details = { monthlyLimitUsd: body.monthlyLimitUsd, hard: body.hard, thresholds };
    await tx.audit.append(auditEntry(ctx.principal, now, 'budget.updated', 'budget', details));
    return budget;
  });
}
