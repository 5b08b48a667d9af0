import type { ModelPrice } from './pricing.js';

/** USD amounts are rounded to this step (one nano-dollar) everywhere, so sums compare exactly. */
export const USD_STEP = 1e-9;

const TOKENS_PER_PRICE_UNIT = 1_000_000;
const NANOS_PER_USD = 1_000_000_000;

/** Token counts of one call; `undefined` means the provider did not report that count. */
export interface TokenUsage {
  /** Prompt tokens, or `undefined` when unknown. */
  inputTokens: number | undefined;
  /** Completion tokens, or `undefined` when unknown. */
  outputTokens: number | undefined;
}

/**
 * Rounds a USD amount to the nearest 1e-9 (half away from zero), removing binary float noise
 * such as 0.1 + 0.2 = 0.30000000000000004. Exact for amounts below about 9 million USD.
 */
export function roundUsd(usd: number): number {
  // n / 1e9 for an integer n is the double nearest the decimal n·10^-9 (both operands exact,
  // division correctly rounded), which multiplying by 1e-9 would not guarantee.
  const nanos = Math.round(Math.abs(usd) * NANOS_PER_USD);
  const rounded = nanos / NANOS_PER_USD;
  return usd < 0 && rounded !== 0 ? -rounded : rounded;
}

/** Sums USD amounts and rounds the result with `roundUsd`. */
export function addUsd(...amounts: number[]): number {
  let total = 0;
  for (const a of amounts) total += a;
  return roundUsd(total);
}

function checkTokens(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

/** USD for `tokens` at `perMTok`, or `undefined` when the count is unknown and the price is not 0. */
function part(perMTok: number, tokens: number | undefined, name: string): number | undefined {
  if (tokens === undefined) return perMTok === 0 ? 0 : undefined;
  checkTokens(name, tokens);
  return (tokens * perMTok) / TOKENS_PER_PRICE_UNIT;
}

/**
 * The cost in USD of one call, rounded to 1e-9. A count that is `undefined` is unknown, and the
 * cost is then `undefined` too (never a made-up 0) unless that count's price is 0: a free local
 * model costs 0 whatever it reported.
 * @throws RangeError when a count is negative, fractional or not finite
 */
export function costUsd(price: ModelPrice, usage: TokenUsage): number | undefined {
  const input = part(price.inputPerMTok, usage.inputTokens, 'inputTokens');
  const output = part(price.outputPerMTok, usage.outputTokens, 'outputTokens');
  if (input === undefined || output === undefined) return undefined;
  return roundUsd(input + output);
}

/**
 * The most a call can cost: all `promptTokens` at the input price plus a reply of the full
 * `maxTokens` at the output price, rounded to 1e-9 the same way as `costUsd` (so it is never
 * below the real cost of a call that used at most these counts). Used to reserve budget before
 * the call.
 * @throws RangeError when a count is negative, fractional or not finite
 */
export function worstCaseUsd(price: ModelPrice, promptTokens: number, maxTokens: number): number {
  checkTokens('promptTokens', promptTokens);
  checkTokens('maxTokens', maxTokens);
  return roundUsd(
    (promptTokens * price.inputPerMTok) / TOKENS_PER_PRICE_UNIT +
      (maxTokens * price.outputPerMTok) / TOKENS_PER_PRICE_UNIT,
  );
}
