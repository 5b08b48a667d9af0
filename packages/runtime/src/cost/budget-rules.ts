import { addUsd, roundUsd } from './calculator.js';

/** A point in time: a `Date`, epoch milliseconds, or an ISO-8601 string. */
export type Instant = Date | number | string;

/** One budget month in UTC, as the half-open interval [from, to). */
export interface MonthWindow {
  /** The month as `YYYY-MM` (UTC); a stable key for per-month rows and alert de-duplication. */
  month: string;
  /** First instant of the month: 00:00:00.000 UTC on day 1 (inclusive). */
  from: Date;
  /** First instant of the next month (exclusive). */
  to: Date;
}

/**
 * Converts an `Instant` to a valid `Date`.
 * @throws RangeError for an unparsable string or a non-finite number
 */
export function toDate(at: Instant): Date {
  const d = at instanceof Date ? new Date(at.getTime()) : new Date(at);
  if (Number.isNaN(d.getTime())) throw new RangeError(`invalid instant: ${String(at)}`);
  return d;
}

/** The UTC calendar month that contains `at`, as [from, to). */
export function budgetMonthWindow(at: Instant): MonthWindow {
  const d = toDate(at);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  // Date.UTC rolls month 12 over into January of the next year.
  const from = new Date(Date.UTC(year, month, 1));
  const to = new Date(Date.UTC(year, month + 1, 1));
  return { month: from.toISOString().slice(0, 7), from, to };
}

function checkUsd(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite, non-negative USD amount, got ${String(value)}`);
  }
}

/**
 * The alert thresholds (percent of `limitUsd`) that spending from `spentBefore` to
 * `spentAfter` newly reaches: those with `spentBefore < limit·pct/100 <= spentAfter`, compared
 * after rounding to 1e-9. Reaching a threshold exactly counts (spending exactly the limit crosses
 * 100); a threshold already reached before does not count again. Returned ascending, without
 * duplicates. Nothing is crossed when spend does not grow, and a limit of 0 has nothing to cross
 * (every threshold is already reached at 0).
 * @param thresholdsPct e.g. `[50, 80, 100]`; values above 100 are allowed (soft limits)
 * @throws RangeError for a negative or non-finite amount or a threshold that is not positive
 */
export function thresholdsCrossed(
  limitUsd: number,
  thresholdsPct: readonly number[],
  spentBefore: number,
  spentAfter: number,
): number[] {
  checkUsd('limitUsd', limitUsd);
  checkUsd('spentBefore', spentBefore);
  checkUsd('spentAfter', spentAfter);
  for (const pct of thresholdsPct) {
    if (!Number.isFinite(pct) || pct <= 0) {
      throw new RangeError(`thresholds must be positive percentages, got ${String(pct)}`);
    }
  }
  const before = roundUsd(spentBefore);
  const after = roundUsd(spentAfter);
  const crossed = new Set<number>();
  for (const pct of thresholdsPct) {
    const mark = roundUsd((limitUsd * pct) / 100);
    if (before < mark && mark <= after) crossed.add(pct);
  }
  return [...crossed].sort((a, b) => a - b);
}

/**
 * Whether a reservation of `amountUsd` may be made. A soft limit never blocks (it only alerts).
 * A hard limit blocks when the budget is already used up (`spent + reserved >= limit`, so even a
 * free call is refused once the limit is reached) or when `spent + reserved + amount` would
 * exceed it; sums are rounded to 1e-9 first, so float noise cannot refuse an exact fit.
 * @param limitUsd the month's limit, or `undefined` when the tenant has no budget
 * @param spentUsd settled spend this month
 * @param reservedUsd open reservations of calls still running
 * @throws RangeError for a negative or non-finite amount
 */
export function canReserve(
  limitUsd: number | undefined,
  hard: boolean,
  spentUsd: number,
  reservedUsd: number,
  amountUsd: number,
): boolean {
  checkUsd('spentUsd', spentUsd);
  checkUsd('reservedUsd', reservedUsd);
  checkUsd('amountUsd', amountUsd);
  if (limitUsd === undefined || !hard) return true;
  checkUsd('limitUsd', limitUsd);
  const limit = roundUsd(limitUsd);
  const committed = addUsd(spentUsd, reservedUsd);
  if (committed >= limit) return false;
  return addUsd(committed, amountUsd) <= limit;
}

/**
 * What is left of the month's budget after settled spend and open reservations; never below 0.
 * `undefined` when the tenant has no budget.
 */
export function remainingUsd(limitUsd: number | undefined, spentUsd: number, reservedUsd: number): number | undefined {
  if (limitUsd === undefined) return undefined;
  return Math.max(0, roundUsd(limitUsd - addUsd(spentUsd, reservedUsd)));
}
