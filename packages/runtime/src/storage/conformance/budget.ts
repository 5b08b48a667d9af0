import { describe, expect, it } from 'vitest';
import { T0, DAY, PERIOD, type ConformanceSuite } from './fixtures.js';

/** Budgets: limits, reservations and settlements, periods, and concurrent reservations under a hard limit. */
export function defineBudgetConformance(suite: ConformanceSuite): void {
  describe('budgets', () => {
    const freshTenant = () => suite.freshTenant();

    it('budgets: defaults, configure, reserve under a hard limit, settle, soft limits', async () => {
      const { store } = await freshTenant();
      expect(await store.budget.get(PERIOD)).toEqual({
        monthlyLimitUsd: null,
        hard: true,
        thresholds: [50, 80, 100],
        period: PERIOD,
        spentUsd: 0,
        reservedUsd: 0,
        notified: [],
        // A budget nobody has touched yet: the row made by the migration.
        updatedAt: 0,
      });
      expect(await store.budget.reserve(1e6, PERIOD, T0)).toBe(true);
      await store.budget.settle(1e6, 0, PERIOD, T0);
      const configured = await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 90] }, PERIOD, T0 + 1);
      expect(configured).toMatchObject({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 90], spentUsd: 0, reservedUsd: 0 });
      expect(await store.budget.reserve(0.6, PERIOD, T0)).toBe(true);
      expect(await store.budget.reserve(0.6, PERIOD, T0)).toBe(false);
      const { before, after } = await store.budget.settle(0.6, 0.55, PERIOD, T0 + 2);
      expect(before).toBeCloseTo(0, 10);
      expect(after.spentUsd).toBeCloseTo(0.55, 10);
      expect(after.reservedUsd).toBeCloseTo(0, 10);
      expect(await store.budget.reserve(0.45, PERIOD, T0)).toBe(true);
      expect(await store.budget.reserve(0.01, PERIOD, T0)).toBe(false);
      // Settling more than was reserved never leaves a negative reservation.
      expect((await store.budget.settle(1, 0, PERIOD, T0)).after.reservedUsd).toBe(0);
      await store.budget.configure({ monthlyLimitUsd: 1, hard: false, thresholds: [100] }, PERIOD, T0 + 3);
      expect(await store.budget.reserve(5, PERIOD, T0)).toBe(true);
    });

    it('budgets: a new month starts at zero and notifications are per period', async () => {
      const { store } = await freshTenant();
      await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [50, 80] }, PERIOD, T0);
      await store.budget.settle(0, 0.9, PERIOD, T0);
      await store.budget.markNotified([80], PERIOD);
      await store.budget.markNotified([50, 80], PERIOD);
      expect(await store.budget.get(PERIOD)).toMatchObject({ spentUsd: 0.9, notified: [50, 80] });
      await store.budget.markNotified([100], '2026-02');
      expect((await store.budget.get(PERIOD)).notified).toEqual([50, 80]);
      expect(await store.budget.get('2026-04')).toMatchObject({ period: '2026-04', spentUsd: 0, notified: [] });
      expect(await store.budget.reserve(0.9, '2026-04', T0 + DAY * 30)).toBe(true);
      const b = await store.budget.get('2026-04');
      expect(b).toMatchObject({ period: '2026-04', spentUsd: 0, notified: [] });
      expect(b.reservedUsd).toBeCloseTo(0.9, 10);
    });

    it('budgets: 50 concurrent reservations never pass a hard limit', async () => {
      const { store } = await freshTenant();
      await store.budget.configure({ monthlyLimitUsd: 1, hard: true, thresholds: [] }, PERIOD, T0);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.budget.reserve(0.1, PERIOD, T0)));
      expect(results.filter(Boolean)).toHaveLength(10);
      const b = await store.budget.get(PERIOD);
      expect(b.reservedUsd).toBeLessThanOrEqual(1 + 1e-9);
      const settled = await Promise.all(Array.from({ length: 10 }, () => store.budget.settle(0.1, 0.1, PERIOD, T0)));
      expect(Math.max(...settled.map((s) => s.after.spentUsd))).toBeCloseTo(1, 9);
      expect(await store.budget.reserve(0.01, PERIOD, T0)).toBe(false);
    });
  });
}
