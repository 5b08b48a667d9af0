import { usdText } from '@agentik/shared';
import { canReserve, remainingUsd } from '../cost/budget-rules.js';
import { budgetPeriod } from '../cost/budget-service.js';
import { AppError } from '../lib/app-error.js';
import type { Log } from '../lib/log.js';
import type { TenantStore } from '../storage/port.js';
import type { BudgetRecord } from '../storage/records.js';

/** What settling a reservation reports: spend before, and the budget after. */
export interface Settlement {
  before: number;
  after: BudgetRecord;
}

/** A hard limit already reached: spent and reserved money cover it. */
function exhausted(b: BudgetRecord): boolean {
  return !canReserve(b.monthlyLimitUsd ?? undefined, b.hard, b.spentUsd, b.reservedUsd, 0);
}

/**
 * The money one run holds against its tenant's budget, from the first model call to the end of
 * the run. The orchestrator owns it: `execute` reserves the worst case of each model call,
 * `save-memory` settles it (real spend in, reservation out) in the transaction that commits the
 * turn, and the orchestrator releases it when the run ends before any call produced anything. A
 * run whose call answered but could not be booked never releases it: the money stays counted
 * against the budget as if spent.
 */
export class BudgetReservation {
  #reservedUsd = 0;
  #closed = false;
  #known: { period: string; record: Promise<BudgetRecord> } | undefined;

  /**
   * @param known the budget as read when the run began (with the run's other reads): the first
   *   free call's check uses it instead of reading the row again, if the month has not changed.
   */
  constructor(
    private readonly store: Pick<TenantStore, 'budget' | 'groupTransaction'>,
    private readonly now: () => number,
    private readonly log: Log,
    private readonly tenantId: string,
    known?: { period: string; record: Promise<BudgetRecord> },
  ) {
    this.#known = known;
  }

  /** USD reserved so far by this run. */
  get reservedUsd(): number {
    return this.#reservedUsd;
  }

  /**
   * Adds `amountUsd` to the reservation, or refuses with BUDGET_EXCEEDED when a hard limit would be
   * passed. A free call reserves nothing (and so takes no row lock), but is still refused once a
   * hard limit has been reached. The refusal says what it counted (the call's worst case at its
   * `maxTokens`), which may be more than is left although the Costs page still shows money.
   */
  async reserve(amountUsd: number, maxTokens: number): Promise<void> {
    if (this.#closed) throw new Error('budget reservation: already settled or released');
    const at = this.now();
    const period = budgetPeriod(at);
    const { budget } = this.store;
    const known = this.#known?.period === period ? this.#known.record : undefined;
    this.#known = undefined;
    const allowed = amountUsd === 0 ? !exhausted(await (known ?? budget.get(period))) : await budget.reserve(amountUsd, period, at);
    if (!allowed) {
      const b = await budget.get(period);
      const left = remainingUsd(b.monthlyLimitUsd ?? undefined, b.spentUsd, b.reservedUsd) ?? 0;
      throw new AppError(
        'BUDGET_EXCEEDED',
        `the hard monthly budget does not cover this call: up to ${usdText(amountUsd)} for this call at ${maxTokens} max tokens; ${usdText(left)} left`,
      );
    }
    this.#reservedUsd += amountUsd;
  }

  /**
   * Books `spentUsd` and lets the reservation go, after `writes`, in one transaction of the tenant
   * store; the reservation counts as settled only once that transaction has committed, so a
   * refused attempt can be retried with fewer writes. Nothing reserved and nothing spent (a free
   * model): the budget row is left alone and the result is undefined.
   */
  async settle(spentUsd: number, writes: (tx: TenantStore) => Promise<void>): Promise<Settlement | undefined> {
    if (this.#closed) throw new Error('budget reservation: already settled or released');
    const at = this.now();
    const reserved = this.#reservedUsd;
    const settlement = await this.store.groupTransaction(async (tx) => {
      await writes(tx);
      return spentUsd === 0 && reserved === 0 ? undefined : tx.budget.settle(reserved, spentUsd, budgetPeriod(at), at);
    });
    this.#closed = true;
    return settlement;
  }

  /** Gives the reservation back (a run none of whose calls produced anything); logs, never throws. */
  async release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reservedUsd === 0) return;
    const at = this.now();
    try {
      await this.store.budget.settle(this.#reservedUsd, 0, budgetPeriod(at), at);
    } catch (error) {
      this.log.error({ err: error, tenantId: this.tenantId }, 'could not release a budget reservation');
    }
  }
}
