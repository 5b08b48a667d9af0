import { AppError } from '../lib/app-error.js';
import { budgetMonthWindow } from '../cost/budget-rules.js';
import type { TimeRange } from '../storage/port.js';

const DAY_MS = 86_400_000;

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
