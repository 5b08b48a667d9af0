import type { BudgetBody } from '@agentik/shared';
import { AppError } from '../lib/app-error.js';
import { budgetMonthWindow, remainingUsd } from './budget-rules.js';
import type { TimeRange } from '../storage/port.js';
import type { BudgetRecord } from '../storage/records.js';
import { auditEntry, type TenantContext } from '../tenants/context.js';

const DAY_MS = 86_400_000;

/** The budget month of an instant, `YYYY-MM` in UTC. */
export function budgetPeriod(at: number): string {
  return budgetMonthWindow(at).month;
}

/**
 * A [from, to) range from query strings. A date-only `to` includes that whole day; without
 * bounds the range is the current month (UTC).
 */
export function parseRange(from: string | undefined, to: string | undefined, now: number): TimeRange {
  const month = budgetMonthWindow(now);
  const monthStart = month.from.getTime();
  const start = from === undefined ? monthStart : Date.parse(from.length === 10 ? `${from}T00:00:00Z` : from);
  let end: number;
  if (to === undefined && from !== undefined) {
    end = now + 1;
  } else if (to === undefined) {
    end = month.to.getTime();
  } else {
    end = to.length === 10 ? Date.parse(`${to}T00:00:00Z`) + DAY_MS : Date.parse(to);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new AppError('VALIDATION_FAILED', 'from/to: not a date');
  if (end <= start) throw new AppError('VALIDATION_FAILED', 'to: must be after from');
  return { from: start, to: end };
}

/** The budget as the API shows it. */
export function presentBudget(b: BudgetRecord) {
  return {
    monthlyLimitUsd: b.monthlyLimitUsd,
    hard: b.hard,
    thresholds: b.thresholds,
    period: b.period,
    spentUsd: b.spentUsd,
    reservedUsd: b.reservedUsd,
    remainingUsd: remainingUsd(b.monthlyLimitUsd ?? undefined, b.spentUsd, b.reservedUsd) ?? null,
  };
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
