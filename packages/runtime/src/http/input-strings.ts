import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../lib/app-error.js';

/**
 * One rule for every string a request carries (path ids, query values such as cursors and search
 * terms, body values and keys, at any depth), on both backends:
 * - a NUL character (U+0000) is refused with VALIDATION_FAILED: Postgres text cannot hold it, so
 *   it used to fail only when the turn was saved, after the model had been paid for;
 * - a lone UTF-16 surrogate (`"\ud800"` in JSON) is refused with MALFORMED_REQUEST, like any other
 *   invalid UTF-8: it cannot be encoded, and the drivers would quietly store U+FFFD instead;
 * - a query string whose percent-escapes are not UTF-8 is refused the same way (Fastify keeps
 *   such a value undecoded; an undecodable path is already refused by the router).
 * The check runs before validation and before any handler, so nothing is read, written or sent
 * to a model for a refused request.
 */
export function registerInputStringCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    checkRawQuery(request);
    checkStrings(request.params, 'params');
    checkStrings(request.query, 'querystring');
    checkStrings(request.body, 'body');
  });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string may not be used, or undefined when it is fine. */
function problemOf(s: string): 'nul' | 'surrogate' | undefined {
  if (s.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(s)) return 'surrogate';
  return undefined;
}

function refuse(problem: 'nul' | 'surrogate', where: string): never {
  const at = where.length > 120 ? `${where.slice(0, 117)}...` : where;
  if (problem === 'nul') throw new AppError('VALIDATION_FAILED', `${at}: must not contain NUL characters (U+0000)`);
  throw new AppError('MALFORMED_REQUEST', `${at}: not valid UTF-8 (a lone surrogate)`);
}

/** Walks a parsed value with an explicit stack (a deeply nested body cannot overflow the call stack). */
function checkStrings(root: unknown, rootName: string): void {
  const stack: Array<[unknown, string]> = [[root, rootName]];
  while (stack.length > 0) {
    const [value, where] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = problemOf(value);
      if (problem) refuse(problem, where);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${where}[${i}]`]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const problem = problemOf(key);
        if (problem) refuse(problem, `${where} (a key)`);
        stack.push([child, `${where}.${key}`]);
      }
    }
  }
}

/** Percent-escapes of the query string must decode to UTF-8; a stray `%` is left alone. */
function checkRawQuery(request: FastifyRequest): void {
  const q = request.url.indexOf('?');
  if (q < 0 || !request.url.includes('%', q)) return;
  try {
    decodeURIComponent(request.url.slice(q + 1).replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'querystring: percent-escapes are not valid UTF-8');
  }
}
