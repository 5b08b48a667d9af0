import { describe, expect, it } from 'vitest';
import type { BudgetRepository, TenantStore } from '../storage/port.js';
import type { BudgetRecord } from '../storage/records.js';
import { silentLog } from '../test-support/harness.js';
import { BudgetReservation } from './budget-reservation.js';

/** A budget in memory: a hard limit of `limitUsd`, with every call to it kept. */
function memoryBudget(limitUsd: number, failSettle = false) {
  const calls: string[] = [];
  const record: BudgetRecord = {
    monthlyLimitUsd: limitUsd,
    hard: true,
    thresholds: [],
    period: '',
    spentUsd: 0,
    reservedUsd: 0,
    notified: [],
    updatedAt: 0,
  };
  const budget: BudgetRepository = {
    get: async (period) => ({ ...record, period }),
    configure: async () => record,
    async reserve(amount) {
      calls.push(`reserve ${amount}`);
      if (record.spentUsd + record.reservedUsd + amount > limitUsd) return false;
      record.reservedUsd += amount;
      return true;
    },
    async settle(reserved, spent) {
      calls.push(`settle ${reserved} ${spent}`);
      if (failSettle) throw new Error('disk gone');
      const before = record.spentUsd;
      record.reservedUsd -= reserved;
      record.spentUsd += spent;
      return { before, after: { ...record } };
    },
    markNotified: async () => undefined,
  };
  let commits = 0;
  const store = {
    budget,
    // One transaction: the writes and the settlement see the same repositories; a failed write commits nothing.
    async groupTransaction<T>(fn: (tx: TenantStore) => Promise<T>): Promise<T> {
      const snapshot = { ...record };
      try {
        const out = await fn({ budget } as TenantStore);
        commits++;
        return out;
      } catch (error) {
        Object.assign(record, snapshot);
        throw error;
      }
    },
  };
  return { store, record, calls, commits: () => commits };
}

const errors: string[] = [];
const log = { ...silentLog, error: (_o: unknown, msg: string) => void errors.push(msg) };
const reservation = (store: ReturnType<typeof memoryBudget>['store']) => new BudgetReservation(store, () => Date.UTC(2026, 11, 7), log, 't1');

describe('BudgetReservation', () => {
  it('reserves call after call, and refuses past a hard limit without counting the refused amount', async () => {
    const b = memoryBudget(1);
    const r = reservation(b.store);
    await r.reserve(0.4, 100);
    await r.reserve(0.4, 100);
    const refusal = r.reserve(0.4, 100);
    await expect(refusal).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await expect(refusal).rejects.toThrow('the hard monthly budget does not cover this call: up to $0.40 for this call at 100 max tokens; $0.20 left');
    expect(r.reservedUsd).toBeCloseTo(0.8, 12);
    expect(b.record.reservedUsd).toBeCloseTo(0.8, 12);
  });

  it('refuses a free call once the hard limit is reached, without reserving', async () => {
    const b = memoryBudget(1);
    b.record.spentUsd = 1;
    await expect(reservation(b.store).reserve(0, 100)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(b.calls).toEqual([]);
    await reservation(memoryBudget(1).store).reserve(0, 100);
  });

  it('settles after the writes, in one transaction: real spend in, reservation out', async () => {
    const b = memoryBudget(10);
    const r = reservation(b.store);
    await r.reserve(0.5, 100);
    const order: string[] = [];
    const settled = await r.settle(0.2, async () => void order.push('writes'));
    expect(order).toEqual(['writes']);
    expect(b.calls).toEqual(['reserve 0.5', 'settle 0.5 0.2']);
    expect(settled).toMatchObject({ before: 0, after: { spentUsd: 0.2, reservedUsd: 0 } });
    expect(b.commits()).toBe(1);
    // Settled is final: a release afterwards gives nothing back twice.
    await r.release();
    expect(b.calls).toHaveLength(2);
    await expect(r.reserve(0.1, 100)).rejects.toThrow(/already settled/);
  });

  it('stays open when the transaction is refused, so the caller can settle with fewer writes', async () => {
    const b = memoryBudget(10);
    const r = reservation(b.store);
    await r.reserve(0.5, 100);
    await expect(r.settle(0.2, () => Promise.reject(new Error('turn refused')))).rejects.toThrow('turn refused');
    expect(b.record).toMatchObject({ reservedUsd: 0.5, spentUsd: 0 });
    await r.settle(0.2, async () => undefined);
    expect(b.record).toMatchObject({ reservedUsd: 0, spentUsd: 0.2 });
  });

  it('leaves the budget row alone when nothing was reserved and nothing spent', async () => {
    const b = memoryBudget(10);
    expect(await reservation(b.store).settle(0, async () => undefined)).toBeUndefined();
    expect(b.calls).toEqual([]);
  });

  it('releases what it reserved once, and logs instead of throwing when the store fails', async () => {
    const b = memoryBudget(10);
    const r = reservation(b.store);
    await r.reserve(0.3, 100);
    await r.release();
    await r.release();
    expect(b.calls).toEqual(['reserve 0.3', 'settle 0.3 0']);
    expect(b.record.reservedUsd).toBe(0);
    const failing = memoryBudget(10, true);
    const f = reservation(failing.store);
    await f.reserve(0.3, 100);
    await f.release();
    expect(errors).toEqual(['could not release a budget reservation']);
    // Nothing reserved: nothing to release, no write.
    const idle = memoryBudget(10);
    await reservation(idle.store).release();
    expect(idle.calls).toEqual([]);
  });
});
