import { describe, expect, it } from 'vitest';
import { usdText } from './usd.js';

describe('usdText', () => {
  it('shows cents, and three significant digits under one cent', () => {
    expect(usdText(0)).toBe('$0.00');
    expect(usdText(12.5)).toBe('$12.50');
    expect(usdText(0.000192)).toBe('$0.000192');
    expect(usdText(0.0049)).toBe('$0.0049');
    expect(usdText(-0.5)).toBe('-$0.50');
    expect(usdText(0.0123)).toBe('$0.0123');
    expect(usdText(1234.5)).toBe('$1,234.50');
  });
});
