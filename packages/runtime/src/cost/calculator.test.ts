import { describe, expect, it } from 'vitest';
import { addUsd, costUsd, roundUsd, worstCaseUsd } from './calculator.js';

const gpt4o = { inputPerMTok: 2.5, outputPerMTok: 10 };
const haiku = { inputPerMTok: 0.8, outputPerMTok: 4 };
const local = { inputPerMTok: 0, outputPerMTok: 0 };

describe('costUsd', () => {
  it('charges input and output tokens at their own price per million', () => {
    expect(costUsd(gpt4o, { inputTokens: 1_000_000, outputTokens: 0 })).toBe(2.5);
    expect(costUsd(gpt4o, { inputTokens: 1000, outputTokens: 500 })).toBe(0.0075);
    expect(costUsd(haiku, { inputTokens: 1234, outputTokens: 567 })).toBe(0.0032552);
    expect(costUsd(gpt4o, { inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('rounds to 1e-9 USD', () => {
    expect(costUsd(gpt4o, { inputTokens: 1, outputTokens: 0 })).toBe(0.0000025);
    // 1 token at 0.15/M is 1.5e-7 exactly; 1 token at 0.0000004/M is 4e-13 -> 0.
    expect(costUsd({ inputPerMTok: 0.15, outputPerMTok: 0.6 }, { inputTokens: 1, outputTokens: 1 })).toBe(7.5e-7);
    expect(costUsd({ inputPerMTok: 4e-7, outputPerMTok: 0 }, { inputTokens: 1, outputTokens: 1 })).toBe(0);
    expect(costUsd({ inputPerMTok: 1 / 3, outputPerMTok: 0 }, { inputTokens: 1_000_000, outputTokens: 0 })).toBe(0.333333333);
  });

  it('returns undefined, never a fake 0, when a priced count is unknown', () => {
    expect(costUsd(gpt4o, { inputTokens: undefined, outputTokens: 10 })).toBeUndefined();
    expect(costUsd(gpt4o, { inputTokens: 10, outputTokens: undefined })).toBeUndefined();
    expect(costUsd(gpt4o, { inputTokens: undefined, outputTokens: undefined })).toBeUndefined();
  });

  it('returns 0 for a free model even when the counts are unknown', () => {
    expect(costUsd(local, { inputTokens: undefined, outputTokens: undefined })).toBe(0);
    expect(costUsd(local, { inputTokens: 5000, outputTokens: 700 })).toBe(0);
  });

  it('only needs the counts whose price is not 0', () => {
    const inputOnly = { inputPerMTok: 1, outputPerMTok: 0 };
    expect(costUsd(inputOnly, { inputTokens: 2_000, outputTokens: undefined })).toBe(0.002);
    expect(costUsd(inputOnly, { inputTokens: undefined, outputTokens: 2_000 })).toBeUndefined();
  });

  it('rejects counts that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => costUsd(gpt4o, { inputTokens: bad, outputTokens: 0 })).toThrow(RangeError);
      expect(() => costUsd(local, { inputTokens: 0, outputTokens: bad })).toThrow(/outputTokens must be a non-negative integer/);
    }
  });
});

describe('worstCaseUsd', () => {
  it('prices the whole prompt plus a reply of maxTokens', () => {
    expect(worstCaseUsd(gpt4o, 1000, 4096)).toBe(0.04346);
    expect(worstCaseUsd(local, 100_000, 100_000)).toBe(0);
    expect(worstCaseUsd(gpt4o, 0, 0)).toBe(0);
  });

  it('is never below the cost of a call that stays within its counts', () => {
    const prices = [gpt4o, haiku, { inputPerMTok: 0.15, outputPerMTok: 0.6 }, { inputPerMTok: 1 / 3, outputPerMTok: 7 / 3 }];
    for (const price of prices) {
      for (const [prompt, max] of [
        [1, 1],
        [17, 333],
        [12_345, 4096],
        [999_999, 100_001],
      ] as const) {
        const reserve = worstCaseUsd(price, prompt, max);
        for (const used of [0, 1, Math.floor(max / 2), max]) {
          expect(costUsd(price, { inputTokens: prompt, outputTokens: used })).toBeLessThanOrEqual(reserve);
        }
        expect(costUsd(price, { inputTokens: prompt, outputTokens: max })).toBe(reserve);
      }
    }
  });

  it('rejects invalid counts', () => {
    expect(() => worstCaseUsd(gpt4o, -1, 10)).toThrow(/promptTokens/);
    expect(() => worstCaseUsd(gpt4o, 10, 0.5)).toThrow(/maxTokens/);
  });
});

describe('roundUsd and addUsd', () => {
  it('removes binary float noise', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(roundUsd(0.1 + 0.2)).toBe(0.3);
    expect(addUsd(0.1, 0.2)).toBe(0.3);
    expect(addUsd()).toBe(0);
    expect(roundUsd(3e-9)).toBe(3e-9);
    expect(roundUsd(123456.12345678912)).toBe(123456.123456789);
  });

  it('rounds half away from zero and never returns -0', () => {
    expect(roundUsd(1.5e-9)).toBe(2e-9);
    expect(roundUsd(-1.5e-9)).toBe(-2e-9);
    expect(Object.is(roundUsd(-1e-12), 0)).toBe(true);
  });

  it('makes sums of many small costs exact', () => {
    let total = 0;
    for (let i = 0; i < 10_000; i++) total = addUsd(total, 0.0000025);
    expect(total).toBe(0.025);
  });
});
