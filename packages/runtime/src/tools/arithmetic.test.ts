import { describe, expect, it } from 'vitest';
import { ArithmeticError, evaluate } from './arithmetic.js';

describe('evaluate', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['20 / 4 / 5', 1],
    ['17 % 5', 2],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['+3 - -2', 5],
    ['1.5e3 + 0.5', 1500.5],
    ['sqrt(16) + abs(-3)', 7],
    ['round(2.5) + floor(2.9) + ceil(2.1)', 8],
    ['ln(e) + log10(1000)', 4],
    ['sin(0) + cos(0) + tan(0)', 1],
    ['PI', Math.PI],
    ['2 * pi', 2 * Math.PI],
    ['((((7))))', 7],
  ])('%s = %d', (expression, value) => {
    expect(evaluate(expression)).toBeCloseTo(value, 12);
  });

  it.each([
    ['', 'unexpected end of expression'],
    ['1 +', 'unexpected end of expression'],
    ['(1 + 2', 'missing )'],
    ['sqrt 4', 'sqrt needs ('],
    ['sqrt(4', 'missing )'],
    ['1 2', 'unexpected "2"'],
    ['foo(1)', 'unexpected "foo"'],
    ['process.exit()', 'unexpected "process"'],
    ['1 / 0', 'result is not a finite number'],
    ['sqrt(-1)', 'result is not a finite number'],
    ['2 $ 3', 'unexpected "$"'],
  ])('refuses %j: %s', (expression, message) => {
    expect(() => evaluate(expression)).toThrow(ArithmeticError);
    expect(() => evaluate(expression)).toThrow(message);
  });

  it('refuses expressions over 500 characters before parsing them', () => {
    expect(() => evaluate('1+'.repeat(250) + '1')).toThrow('expression is too long');
    expect(evaluate('1+'.repeat(249) + '1')).toBe(250);
  });

  it('never echoes more than 20 characters of an unexpected token', () => {
    try {
      evaluate(`x${'a'.repeat(100)}`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(40);
    }
  });
});
