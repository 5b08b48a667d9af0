import type { BudgetBody } from '@agentik/shared';
import { budgetMonthWindow } from './budget-rules.js';
import type { BudgetRecord } from '../storage/records.js';
import { auditEntry, type TenantContext } from '../tenants/context.js';

/** The budget month of an instant, `YYYY-MM` in UTC. */
export function budgetPeriod(at: number): string {
  return budgetMonthWindow(at).month;
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
