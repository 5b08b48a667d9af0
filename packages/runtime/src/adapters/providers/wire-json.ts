import { ProviderError } from '../../providers/provider-error.js';
import type { ProviderName } from '../../providers/types.js';

/** A response body or stream that does not follow the provider's wire format. Not retried. */
export function malformedResponse(provider: ProviderName, what: string): ProviderError {
  return new ProviderError({
    provider,
    message: `${provider}: malformed response (${what})`,
    code: 'malformed_response',
    retryable: false,
    kind: 'unavailable',
  });
}

/** A stream that ended cleanly at the HTTP level but before the wire's own end marker. */
export function truncatedStream(provider: ProviderName, marker: string): ProviderError {
  return new ProviderError({
    provider,
    message: `${provider}: stream ended before ${marker}`,
    code: 'stream_truncated',
    retryable: true,
    kind: 'unavailable',
  });
}

/** `JSON.parse` that turns bad input into a `malformed_response` error naming only `what`. */
export function parseWireJson(provider: ProviderName, text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedResponse(provider, `${what} is not valid JSON`);
  }
}

/** Parses a JSON object; anything else (array, number, invalid JSON) is malformed. */
export function parseWireObject(provider: ProviderName, text: string, what: string): Record<string, unknown> {
  const value = parseWireJson(provider, text, what);
  if (!isRecord(value)) throw malformedResponse(provider, `${what} is not a JSON object`);
  return value;
}

/** Parses an error body leniently: a JSON object, or `undefined` when it is not one. */
export function parseErrorBody(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * A token count as the wire gave it: undefined when absent (never a made-up 0), the number as sent
 * (even negative, fractional or huge), or NaN when the field holds something that is not a number.
 * Adapters do not judge counts: the pipeline checks them against the call's bounds before billing,
 * so a lying or garbled count is booked at the bound and flagged instead of silently dropped.
 */
export function count(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' ? value : Number.NaN;
}

/** Joins a base URL and a path with exactly one slash; rejects URLs that carry credentials. */
export function joinUrl(baseUrl: string, path: string): string {
  const url = new URL(baseUrl);
  if (url.username || url.password) throw new TypeError('provider base URL must not contain credentials');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${path}`;
}

/**
 * Tool-call arguments as the JSON text our `ToolCall` carries: a string is kept as it is (it may
 * be invalid JSON: the model wrote it); an object, as Ollama sends, is serialised; none is `{}`.
 */
export function toolArgumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

/** Parses tool-call arguments into the object Anthropic wants as `input`; invalid JSON becomes `{}`. */
export function toToolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const value = JSON.parse(args) as unknown;
    return isRecord(value) ? value : {};
  } catch {
    // The model produced broken JSON; the tool already failed on it, and the wire needs an object.
    return {};
  }
}
