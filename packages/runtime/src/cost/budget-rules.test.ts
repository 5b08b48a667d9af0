import { describe, expect, it } from 'vitest';
import {
  budgetMonthWindow,
  canReserve,
  remainingUsd,
  thresholdsCrossed,
  toDate,
} from './budget-rules.js';

describe('budgetMonthWindow', () => {
  it('is the UTC calendar month as [from, to)', () => {
    const w = budgetMonthWindow('2025-03-15T12:34:56Z');
    expect(w.month).toBe('2025-03');
    expect(w.from.toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(w.to.toISOString()).toBe('2025-04-01T00:00:00.000Z');
  });

  it('puts the first instant of a month in that month and the last millisecond in the previous one', () => {
    expect(budgetMonthWindow(Date.UTC(2025, 3, 1)).month).toBe('2025-04');
    expect(budgetMonthWindow(Date.UTC(2025, 3, 1) - 1).month).toBe('2025-03');
    const w = budgetMonthWindow(new Date('2025-04-30T23:59:59.999Z'));
    expect(w.to.getTime()).toBe(Date.UTC(2025, 4, 1));
  });

  it('rolls December over into January of the next year', () => {
    const w = budgetMonthWindow('2025-12-31T23:59:59.999Z');
    expect(w.month).toBe('2025-12');
    expect(w.to.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(budgetMonthWindow('2026-01-01T00:00:00.000Z').from.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('handles February in leap and common years', () => {
    expect(budgetMonthWindow('2024-02-29T10:00:00Z').to.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(budgetMonthWindow('2025-02-28T23:59:59Z').to.toISOString()).toBe('2025-03-01T00:00:00.000Z');
  });

  it('uses UTC, not the local offset of the timestamp', () => {
    // 00:30 on April 1st at +02:00 is still March in UTC.
    expect(budgetMonthWindow('2025-04-01T00:30:00+02:00').month).toBe('2025-03');
  });

  it('does not share the Date it was given', () => {
    const at = new Date('2025-06-10T00:00:00Z');
    const w = budgetMonthWindow(at);
    w.from.setUTCFullYear(2000);
    expect(at.toISOString()).toBe('2025-06-10T00:00:00.000Z');
    expect(toDate(at)).not.toBe(at);
  });

  it('rejects an invalid instant', () => {
    expect(() => budgetMonthWindow('not a date')).toThrow(RangeError);
    expect(() => budgetMonthWindow(Number.NaN)).toThrow(/invalid instant/);
  });
});

describe('thresholdsCrossed', () => {
  it('returns the thresholds newly reached, ascending', () => {
    expect(thresholdsCrossed(100, [50, 80, 100], 0, 10)).toEqual([]);
    expect(thresholdsCrossed(100, [50, 80, 100], 10, 60)).toEqual([50]);
    expect(thresholdsCrossed(100, [100, 50, 80], 10, 95)).toEqual([50, 80]);
    expect(thresholdsCrossed(100, [50, 80, 100], 49, 150)).toEqual([50, 80, 100]);
  });

  it('counts reaching a threshold exactly, including exactly the limit', () => {
    expect(thresholdsCrossed(10, [50, 80, 100], 7.99, 8)).toEqual([80]);
    expect(thresholdsCrossed(10, [50, 80, 100], 9.5, 10)).toEqual([100]);
    expect(thresholdsCrossed(0.3, [100], 0.1, 0.1 + 0.2)).toEqual([100]);
  });

  it('does not report a threshold already reached before', () => {
    expect(thresholdsCrossed(10, [50, 80, 100], 10, 12)).toEqual([]);
    expect(thresholdsCrossed(10, [50, 80, 100], 8, 9.99)).toEqual([]);
    expect(thresholdsCrossed(10, [50, 80, 100, 120], 10, 12)).toEqual([120]);
  });

  it('reports nothing when spend does not grow', () => {
    expect(thresholdsCrossed(10, [50], 6, 6)).toEqual([]);
    expect(thresholdsCrossed(10, [50], 6, 4)).toEqual([]);
  });

  it('reports nothing for a zero limit or no thresholds, and each threshold once', () => {
    expect(thresholdsCrossed(0, [50, 100], 0, 5)).toEqual([]);
    expect(thresholdsCrossed(10, [], 0, 50)).toEqual([]);
    expect(thresholdsCrossed(10, [50, 50], 0, 5)).toEqual([50]);
  });

  it('rejects invalid amounts and thresholds', () => {
    expect(() => thresholdsCrossed(-1, [50], 0, 1)).toThrow(/limitUsd/);
    expect(() => thresholdsCrossed(10, [50], Number.NaN, 1)).toThrow(/spentBefore/);
    expect(() => thresholdsCrossed(10, [50], 0, Number.POSITIVE_INFINITY)).toThrow(/spentAfter/);
    expect(() => thresholdsCrossed(10, [0], 0, 1)).toThrow(/positive percentages/);
    expect(() => thresholdsCrossed(10, [Number.NaN], 0, 1)).toThrow(RangeError);
  });
});

describe('canReserve', () => {
  it('allows anything without a budget or with a soft limit', () => {
    expect(canReserve(undefined, true, 1e6, 1e6, 1e6)).toBe(true);
    expect(canReserve(10, false, 50, 0, 100)).toBe(true);
  });

  it('allows a hard-limited reservation that fits exactly, and not one that overshoots', () => {
    expect(canReserve(10, true, 6, 3, 1)).toBe(true);
    expect(canReserve(10, true, 6, 3, 1.000000001)).toBe(false);
    expect(canReserve(0.3, true, 0.1, 0, 0.2)).toBe(true);
  });

  it('refuses even a free call once the hard limit is used up', () => {
    expect(canReserve(10, true, 10, 0, 0)).toBe(false);
    expect(canReserve(10, true, 7, 3, 0)).toBe(false);
    expect(canReserve(10, true, 12, 0, 0)).toBe(false);
    expect(canReserve(10, true, 9.99, 0, 0)).toBe(true);
    expect(canReserve(0, true, 0, 0, 0)).toBe(false);
  });

  it('rejects invalid amounts', () => {
    expect(() => canReserve(10, true, -1, 0, 0)).toThrow(/spentUsd/);
    expect(() => canReserve(10, true, 0, Number.NaN, 0)).toThrow(/reservedUsd/);
    expect(() => canReserve(10, true, 0, 0, -0.5)).toThrow(/amountUsd/);
    expect(() => canReserve(Number.POSITIVE_INFINITY, true, 0, 0, 1)).toThrow(/limitUsd/);
  });

  it('keeps concurrent reservations within the limit', () => {
    const limit = 1;
    let reserved = 0;
    let granted = 0;
    for (let i = 0; i < 50; i++) {
      if (canReserve(limit, true, 0.5, reserved, 0.03)) {
        reserved += 0.03;
        granted += 1;
      }
    }
    expect(granted).toBe(16);
    expect(0.5 + reserved).toBeLessThanOrEqual(limit);
  });
});

describe('remainingUsd', () => {
  it('is what is left after spend and reservations, never negative', () => {
    expect(remainingUsd(10, 6, 3)).toBe(1);
    expect(remainingUsd(0.3, 0.1, 0.1)).toBe(0.1);
    expect(remainingUsd(10, 12, 0)).toBe(0);
    expect(remainingUsd(undefined, 5, 0)).toBeUndefined();
  });
});
