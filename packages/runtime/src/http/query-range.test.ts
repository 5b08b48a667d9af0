import { describe, expect, it } from 'vitest';
import { AppError } from '../lib/app-error.js';
import { parseRange } from './query-range.js';

const NOW = Date.parse('2026-02-14T10:00:00.000Z');

describe('parseRange', () => {
  it('defaults to the current month, [first day, first day of next month)', () => {
    expect(parseRange(undefined, undefined, NOW)).toEqual({
      from: Date.parse('2026-02-01T00:00:00Z'),
      to: Date.parse('2026-03-01T00:00:00Z'),
    });
    const dec = Date.parse('2025-12-20T00:00:00Z');
    expect(parseRange(undefined, undefined, dec).to).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });

  it('takes a date-only `to` as the whole of that day', () => {
    expect(parseRange('2026-01-01', '2026-01-31', NOW)).toEqual({
      from: Date.parse('2026-01-01T00:00:00Z'),
      to: Date.parse('2026-02-01T00:00:00Z'),
    });
  });

  it('takes full timestamps as they are', () => {
    expect(parseRange('2026-01-01T06:00:00Z', '2026-01-01T07:30:00+01:00', NOW)).toEqual({
      from: Date.parse('2026-01-01T06:00:00Z'),
      to: Date.parse('2026-01-01T06:30:00Z'),
    });
  });

  it('runs an open-ended `from` up to now, inclusive', () => {
    expect(parseRange('2026-02-01', undefined, NOW)).toEqual({ from: Date.parse('2026-02-01T00:00:00Z'), to: NOW + 1 });
  });

  it('starts at the month when only `to` is given', () => {
    expect(parseRange(undefined, '2026-02-10', NOW)).toEqual({
      from: Date.parse('2026-02-01T00:00:00Z'),
      to: Date.parse('2026-02-11T00:00:00Z'),
    });
  });

  it.each([
    ['not-a-date', undefined, 'from/to: not a date'],
    ['2026-01-01', 'nope', 'from/to: not a date'],
    ['2026-02-01', '2026-01-01', 'to: must be after from'],
    ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', 'to: must be after from'],
  ])('refuses from=%j to=%j with VALIDATION_FAILED', (from, to, message) => {
    try {
      parseRange(from, to, NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, message });
    }
  });
});
