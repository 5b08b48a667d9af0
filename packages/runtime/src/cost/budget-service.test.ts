import { describe, expect, it } from 'vitest';
import { AppError } from '../lib/app-error.js';
import { budgetPeriod, parseRange, presentBudget } from './budget-service.js';

const NOW = Date.parse('2026-02-14T10:00:00.000Z');

describe('budgetPeriod', () => {
  it('is the UTC month', () => {
    expect(budgetPeriod(NOW)).toBe('2026-02');
    expect(budgetPeriod(Date.parse('2025-12-31T23:59:59.999Z'))).toBe('2025-12');
    expect(budgetPeriod(Date.parse('2026-01-01T00:00:00.000Z'))).toBe('2026-01');
  });
});

describe('parseRange', () => {
  it('defaults to the current month, [first day, first day of next month)', () => {
    expect(parseRange(undefined, undefined, NOW)).toEqual({
      from: Date.parse('2026-02-01T00:00:00Z'),
      to: Date.parse('2026-03-01T00:00:00Z'),
    });
    const dec = Date.parse('2025-12-20T00:00:00Z');
    expect(parseRange(undefined, undefined, dec).to).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });

  it('takes a date-only `to` as the whole of that day', () => {
    expect(parseRange('2026-01-01', '2026-01-31', NOW)).toEqual({
      from: Date.parse('2026-01-01T00:00:00Z'),
      to: Date.parse('2026-02-01T00:00:00Z'),
    });
  });

  it('takes full timestamps as they are', () => {
    expect(parseRange('2026-01-01T06:00:00Z', '2026-01-01T07:30:00+01:00', NOW)).toEqual({
      from: Date.parse('2026-01-01T06:00:00Z'),
      to: Date.parse('2026-01-01T06:30:00Z'),
    });
  });

  it('runs an open-ended `from` up to now, inclusive', () => {
    expect(parseRange('2026-02-01', undefined, NOW)).toEqual({ from: Date.parse('2026-02-01T00:00:00Z'), to: NOW + 1 });
  });

  it('starts at the month when only `to` is given', () => {
    expect(parseRange(undefined, '2026-02-10', NOW)).toEqual({
      from: Date.parse('2026-02-01T00:00:00Z'),
      to: Date.parse('2026-02-11T00:00:00Z'),
    });
  });

  it.each([
    ['not-a-date', undefined, 'from/to: not a date'],
    ['2026-01-01', 'nope', 'from/to: not a date'],
    ['2026-02-01', '2026-01-01', 'to: must be after from'],
    ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', 'to: must be after from'],
  ])('refuses from=%j to=%j with VALIDATION_FAILED', (from, to, message) => {
    try {
      parseRange(from, to, NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, message });
    }
  });
});

describe('presentBudget', () => {
  const base = { hard: true, thresholds: [50, 80, 100], period: '2026-02', notified: [50], updatedAt: NOW };

  it('shows what is left after spend and reservations, never below zero, and hides `notified`', () => {
    expect(presentBudget({ ...base, monthlyLimitUsd: 10, spentUsd: 4, reservedUsd: 1 })).toEqual({
      monthlyLimitUsd: 10,
      hard: true,
      thresholds: [50, 80, 100],
      period: '2026-02',
      spentUsd: 4,
      reservedUsd: 1,
      remainingUsd: 5,
    });
    expect(presentBudget({ ...base, monthlyLimitUsd: 1, spentUsd: 3, reservedUsd: 0 }).remainingUsd).toBe(0);
  });

  it('has no remaining amount without a limit', () => {
    expect(presentBudget({ ...base, monthlyLimitUsd: null, spentUsd: 3, reservedUsd: 0 }).remainingUsd).toBeNull();
  });
});
