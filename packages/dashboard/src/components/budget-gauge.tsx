import type { Budget } from '@agentik/shared';
import { formatUsd, percentOf } from '../lib/format';

/**
 * Spend of the month against the budget: a bar (spent, then reserved by calls in flight) with a
 * tick at each alert threshold. Without a limit it only states the spend.
 */
export function BudgetGauge({ budget }: { budget: Budget }) {
  const limit = budget.monthlyLimitUsd;
  if (limit === null) {
    return (
      <div className="gauge">
        <p>
          <strong>{formatUsd(budget.spentUsd)}</strong> spent in {budget.period}. No monthly limit is set.
        </p>
      </div>
    );
  }
  const used = percentOf(budget.spentUsd, limit);
  const reserved = percentOf(budget.reservedUsd, limit);
  const level = used >= 100 ? 'over' : budget.thresholds.some((t) => t < 100 && used >= t) ? 'warn' : 'ok';
  return (
    <div className="gauge">
      <p>
        <strong data-testid="budget-spent">{formatUsd(budget.spentUsd)}</strong> of {formatUsd(limit)} spent in {budget.period} ({used === 0 && budget.spentUsd > 0 ? 'under 1' : used}%),{' '}
        {budget.hard ? 'hard limit: calls stop at the limit' : 'soft limit: alerts only'}.
      </p>
      <div
        className={`gauge-track gauge-${level}`}
        role="meter"
        aria-label="Budget used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, used)}
        aria-valuetext={`${used}% of the monthly budget`}
      >
        <div className="gauge-fill" style={{ width: `${Math.min(100, used)}%` }} />
        {reserved > 0 ? (
          <div className="gauge-reserved" style={{ left: `${Math.min(100, used)}%`, width: `${Math.min(100 - Math.min(100, used), reserved)}%` }} />
        ) : null}
        {budget.thresholds
          .filter((t) => t > 0 && t <= 100)
          .map((t) => (
            <span key={t} className="gauge-tick" style={{ left: `${t}%` }} title={`Alert at ${t}%`} />
          ))}
      </div>
      <p className="muted small">
        Alerts at {budget.thresholds.length > 0 ? budget.thresholds.map((t) => `${t}%`).join(', ') : 'no thresholds'}
        {budget.remainingUsd !== null ? ` · ${formatUsd(budget.remainingUsd)} left` : ''}
        {budget.reservedUsd > 0 ? ` · ${formatUsd(budget.reservedUsd)} reserved by calls in flight` : ''}
      </p>
    </div>
  );
}
