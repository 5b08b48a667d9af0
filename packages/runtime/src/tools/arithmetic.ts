/**
 * A small arithmetic evaluator for the calculator tool: numbers, + - * / % ^, parentheses,
 * unary minus and a few functions. It parses; it never evaluates code.
 */

const FUNCTIONS: Record<string, (x: number) => number> = {
  sqrt: Math.sqrt,
  abs: Math.abs,
  round: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
  ln: Math.log,
  log10: Math.log10,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export class ArithmeticError extends Error {}

/** Evaluates `expression`; throws {@link ArithmeticError} on anything that is not arithmetic. */
export function evaluate(expression: string): number {
  if (expression.length > 500) throw new ArithmeticError('expression is too long');
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[a-z]+\d*|[-+*/%^()]|\S/gi) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  const primary = (): number => {
    const t = next();
    if (t === undefined) throw new ArithmeticError('unexpected end of expression');
    if (/^\d/.test(t)) return Number(t);
    if (t === '(') {
      const v = sum();
      if (next() !== ')') throw new ArithmeticError('missing )');
      return v;
    }
    if (t === '-') return -power();
    if (t === '+') return power();
    const name = t.toLowerCase();
    if (name in CONSTANTS) return CONSTANTS[name]!;
    const fn = FUNCTIONS[name];
    if (fn) {
      if (next() !== '(') throw new ArithmeticError(`${name} needs (`);
      const v = sum();
      if (next() !== ')') throw new ArithmeticError('missing )');
      return fn(v);
    }
    throw new ArithmeticError(`unexpected "${t.slice(0, 20)}"`);
  };
  const power = (): number => {
    const base = primary();
    if (peek() === '^') {
      next();
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      next();
      const rhs = power();
      v = op === '*' ? v * rhs : op === '/' ? v / rhs : v % rhs;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      next();
      const rhs = product();
      v = op === '+' ? v + rhs : v - rhs;
    }
    return v;
  };

  const value = sum();
  if (pos !== tokens.length) throw new ArithmeticError(`unexpected "${String(peek()).slice(0, 20)}"`);
  if (!Number.isFinite(value)) throw new ArithmeticError('result is not a finite number');
  return value;
}
