import { slugify as sharedSlugify } from '@agentik/shared';
import { describe, expect, it } from 'vitest';
import { daysBetween, formatRelative, formatTokens, formatUsd, percentOf, slugify } from './format';

describe('formatUsd', () => {
  it('shows cents for ordinary amounts and keeps fractions of a cent visible', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(12.5)).toBe('$12.50');
    expect(formatUsd(1234.567)).toBe('$1,234.57');
    expect(formatUsd(0.000192)).toBe('$0.000192');
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(-0.005)).toBe('-$0.005');
    // Under a dollar, three significant digits: a spend of $0.0123 is not "$0.01" in one place.
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(0.5)).toBe('$0.50');
    expect(formatUsd(0.1234)).toBe('$0.123');
    expect(formatUsd(0.99)).toBe('$0.99');
  });

  it('shows a dash when no price is known', () => {
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd(undefined)).toBe('—');
  });
});

describe('formatTokens', () => {
  it('groups thousands and shows unknown usage as a dash, never 0', () => {
    expect(formatTokens(1234567)).toBe('1,234,567');
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(null)).toBe('—');
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2025-03-10T12:00:00Z');
  it('says how long ago', () => {
    expect(formatRelative(null, now)).toBe('never');
    expect(formatRelative('2025-03-10T11:59:50Z', now)).toBe('just now');
    expect(formatRelative('2025-03-10T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-03-10T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2025-03-08T12:00:00Z', now)).toBe('2 d ago');
  });
});

describe('helpers', () => {
  it('percentOf', () => {
    expect(percentOf(5, 10)).toBe(50);
    expect(percentOf(5, null)).toBe(0);
    expect(percentOf(5, 0)).toBe(0);
  });

  it('daysBetween lists every UTC day, across a month end', () => {
    expect(daysBetween('2025-02-27', '2025-03-02')).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
    expect(daysBetween('2025-03-02', '2025-03-01')).toEqual([]);
  });

  it('slugify makes a valid slug', () => {
    expect(slugify('Acme Corp.')).toBe('acme-corp');
    expect(slugify('  Über Café -- 2 ')).toBe('uber-cafe-2');
  });

  it('previews the slug the server assigns (it used to cut long names at 63, not 50, and show nothing for "---")', () => {
    expect(slugify).toBe(sharedSlugify);
    expect(slugify('x'.repeat(60))).toBe('x'.repeat(50));
    expect(slugify('---')).toBe('tenant');
  });
});
