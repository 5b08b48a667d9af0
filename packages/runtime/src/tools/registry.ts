import type { ToolSpec } from '../providers/types.js';
import { ArithmeticError, evaluate } from './arithmetic.js';

/** A built-in tool: its JSON schema for the model and the code that runs it. */
export interface Tool {
  spec: ToolSpec;
  /** Runs the tool on the model's arguments; the result is text for the model. */
  run(args: unknown, now: () => number): Promise<string>;
}

/** Thrown for arguments the model got wrong; the message goes back to the model. */
export class ToolInputError extends Error {}

const clock: Tool = {
  spec: {
    name: 'current_time',
    description: 'The current date and time, in UTC or in an IANA time zone.',
    parameters: {
      type: 'object',
      properties: { timeZone: { type: 'string', description: 'IANA zone such as Europe/Paris; default UTC' } },
      additionalProperties: false,
    },
  },
  async run(args, now) {
    const zone = (args as { timeZone?: unknown } | null)?.timeZone ?? 'UTC';
    if (typeof zone !== 'string') throw new ToolInputError('timeZone must be a string');
    const at = new Date(now());
    try {
      const local = at.toLocaleString('sv-SE', { timeZone: zone, hour12: false });
      return JSON.stringify({ iso: at.toISOString(), timeZone: zone, local });
    } catch {
      throw new ToolInputError(`unknown time zone ${zone.slice(0, 60)}`);
    }
  },
};

const calculator: Tool = {
  spec: {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt, abs, round, ln, sin, pi, e.',
    parameters: {
      type: 'object',
      properties: { expression: { type: 'string', description: 'e.g. (2 + 3) * 4 ^ 2' } },
      required: ['expression'],
      additionalProperties: false,
    },
  },
  async run(args) {
    const expression = (args as { expression?: unknown } | null)?.expression;
    if (typeof expression !== 'string') throw new ToolInputError('expression must be a string');
    try {
      return JSON.stringify({ expression, result: evaluate(expression) });
    } catch (error) {
      if (error instanceof ArithmeticError) throw new ToolInputError(error.message);
      throw error;
    }
  },
};

/** The built-in tools, by name. */
export const BUILT_IN_TOOLS: ReadonlyMap<string, Tool> = new Map([clock, calculator].map((t) => [t.spec.name, t]));

/** The names among `names` that are not built-in tools. */
export function unknownTools(names: readonly string[]): string[] {
  return names.filter((n) => !BUILT_IN_TOOLS.has(n));
}
