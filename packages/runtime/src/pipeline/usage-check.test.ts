import { describe, expect, it } from 'vitest';
import { checkUsage, worstOf } from './usage-check.js';

const bound = { input: 300, output: 100 };

describe('checkUsage', () => {
  it('takes counts within the bound as reported, and keeps an absent count unknown', () => {
    expect(checkUsage({ inputTokens: 40, outputTokens: 100 }, bound)).toEqual({ usage: { inputTokens: 40, outputTokens: 100 }, anomaly: null });
    expect(checkUsage({ inputTokens: 0, outputTokens: undefined }, bound)).toEqual({ usage: { inputTokens: 0, outputTokens: undefined }, anomaly: null });
  });

  it('books a count above the bound at the bound: over_bound', () => {
    for (const lie of [101, 5_000_000, 1e300, Number.POSITIVE_INFINITY, 150.5]) {
      expect(checkUsage({ inputTokens: 40, outputTokens: lie }, bound), String(lie)).toEqual({ usage: { inputTokens: 40, outputTokens: 100 }, anomaly: 'over_bound' });
    }
    expect(checkUsage({ inputTokens: 301, outputTokens: 1 }, bound).usage.inputTokens).toBe(300);
  });

  it('books a count that is not a non-negative integer at the bound: invalid', () => {
    for (const bad of [-5, 10.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(checkUsage({ inputTokens: bad, outputTokens: 7 }, bound), String(bad)).toEqual({ usage: { inputTokens: 300, outputTokens: 7 }, anomaly: 'invalid' });
    }
    // invalid wins over over_bound within one call and across calls.
    expect(checkUsage({ inputTokens: 1e9, outputTokens: -1 }, bound).anomaly).toBe('invalid');
    expect(checkUsage({ inputTokens: -1, outputTokens: 1e9 }, bound).anomaly).toBe('invalid');
    expect(worstOf(['over_bound', 'invalid'])).toBe('invalid');
    expect(worstOf(['over_bound'])).toBe('over_bound');
    expect(worstOf([])).toBeNull();
  });
});
