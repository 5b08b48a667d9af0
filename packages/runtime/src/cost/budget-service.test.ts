import { describe, expect, it } from 'vitest';
import { budgetPeriod } from './budget-service.js';

const NOW = Date.parse('2026-02-14T10:00:00.000Z');

describe('budgetPeriod', () => {
  it('is the UTC month', () => {
    expect(budgetPeriod(NOW)).toBe('2026-02');
    expect(budgetPeriod(Date.parse('2025-12-31T23:59:59.999Z'))).toBe('2025-12');
    expect(budgetPeriod(Date.parse('2026-01-01T00:00:00.000Z'))).toBe('2026-01');
  });

  it('answers each instant by its own month when asked in any order (the last month is remembered)', () => {
    const asked = ['2026-01-31T23:59:59.999Z', '2026-01-15T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-01-31T23:59:59.999Z', '2027-02-28T12:00:00.000Z'];
    expect(asked.map((t) => budgetPeriod(Date.parse(t)))).toEqual(['2026-01', '2026-01', '2026-02', '2026-01', '2027-02']);
  });
});
