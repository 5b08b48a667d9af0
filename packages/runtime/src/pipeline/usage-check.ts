import type { Usage } from '../providers/types.js';
import type { UsageAnomaly } from './context.js';

/** The most tokens one call may be billed for: what its reservation assumed. */
export interface UsageBound {
  input: number;
  output: number;
}

/** `invalid` wins over `over_bound`: the worse of the calls of one message. */
export function worstOf(anomalies: UsageAnomaly[]): UsageAnomaly | null {
  if (anomalies.includes('invalid')) return 'invalid';
  return anomalies.includes('over_bound') ? 'over_bound' : null;
}

/** Reported counts for a log line (NaN and huge numbers kept readable). */
export function describeUsage(u: Usage): { inputTokens: string; outputTokens: string } {
  return { inputTokens: String(u.inputTokens), outputTokens: String(u.outputTokens) };
}

/**
 * Checks the counts a provider reported against the call's bound. An absent count stays unknown
 * (and is then booked at the reservation). A count that is not a non-negative integer (negative,
 * fractional, not finite, or not a number on the wire: NaN) is `invalid`; one above the bound is
 * `over_bound`; both are booked at the bound, so a call is always recorded and never above what
 * it reserved.
 */
export function checkUsage(reported: Usage, bound: UsageBound): { usage: Usage; anomaly: UsageAnomaly | null } {
  let anomaly: UsageAnomaly | null = null;
  const one = (value: number | undefined, max: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isSafeInteger(value) || value < 0) {
      if (!Number.isNaN(value) && value > max) anomaly ??= 'over_bound';
      else anomaly = 'invalid';
      return max;
    }
    if (value > max) {
      anomaly ??= 'over_bound';
      return max;
    }
    return value;
  };
  const usage = { inputTokens: one(reported.inputTokens, bound.input), outputTokens: one(reported.outputTokens, bound.output) };
  return { usage, anomaly };
}
