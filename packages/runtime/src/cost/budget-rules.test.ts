import { describe, expect, it } from 'vitest';
import {
  budgetMonthWindow,
  canReserve,
  groupKeyOf,
  remainingUsd,
  summarizeCosts,
  thresholdsCrossed,
  toDate,
  utcDay,
  type CostEventLike,
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

const events: CostEventLike[] = [
  { createdAt: '2025-03-01T00:00:00Z', agentId: 'a1', model: 'gpt-4o', costUsd: 0.1, inputTokens: 100, outputTokens: 10 },
  { createdAt: Date.UTC(2025, 1, 28, 23, 59, 59, 999), agentId: 'a2', model: 'llama3', costUsd: 0, inputTokens: 50, outputTokens: 5 },
  { createdAt: new Date('2025-03-01T23:59:59.999Z'), agentId: 'a1', model: 'gpt-4o', costUsd: 0.2, inputTokens: 200, outputTokens: 20 },
  { createdAt: '2025-03-02T00:00:00Z', agentId: 'a2', model: 'claude-3-5-haiku', costUsd: null, inputTokens: null, outputTokens: undefined },
  { createdAt: '2025-03-02T08:00:00Z', agentId: 'a3', model: 'claude-3-5-haiku', costUsd: 0.3, inputTokens: 300, outputTokens: 30 },
];

describe('groupKeyOf and utcDay', () => {
  it('keys by UTC day, model or agent', () => {
    expect(groupKeyOf(events[1] as CostEventLike, 'day')).toBe('2025-02-28');
    expect(groupKeyOf(events[2] as CostEventLike, 'day')).toBe('2025-03-01');
    expect(groupKeyOf(events[0] as CostEventLike, 'model')).toBe('gpt-4o');
    expect(groupKeyOf(events[0] as CostEventLike, 'agent')).toBe('a1');
    expect(utcDay('2025-03-01T23:30:00-05:00')).toBe('2025-03-02');
  });
});

describe('summarizeCosts', () => {
  it('totals all events and groups them by day in date order', () => {
    const s = summarizeCosts(events, 'day');
    expect(s).toMatchObject({ totalUsd: 0.6, inputTokens: 650, outputTokens: 65, calls: 5 });
    expect(s.groups).toEqual([
      { key: '2025-02-28', usd: 0, inputTokens: 50, outputTokens: 5, calls: 1 },
      { key: '2025-03-01', usd: 0.3, inputTokens: 300, outputTokens: 30, calls: 2 },
      { key: '2025-03-02', usd: 0.3, inputTokens: 300, outputTokens: 30, calls: 2 },
    ]);
  });

  it('groups by model and agent, costliest first, ties by key', () => {
    expect(summarizeCosts(events, 'model').groups.map((g) => [g.key, g.usd])).toEqual([
      ['claude-3-5-haiku', 0.3],
      ['gpt-4o', 0.3],
      ['llama3', 0],
    ]);
    expect(summarizeCosts(events, 'agent').groups.map((g) => [g.key, g.usd, g.calls])).toEqual([
      ['a1', 0.3, 2],
      ['a3', 0.3, 1],
      ['a2', 0, 2],
    ]);
  });

  it('summarizes nothing as zeros', () => {
    expect(summarizeCosts([], 'day')).toEqual({ totalUsd: 0, inputTokens: 0, outputTokens: 0, calls: 0, groups: [] });
  });
});
