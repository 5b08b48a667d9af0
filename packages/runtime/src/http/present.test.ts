import { describe, expect, it } from 'vitest';
import { presentBudget } from './present.js';

const NOW = Date.parse('2026-02-14T10:00:00.000Z');

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
