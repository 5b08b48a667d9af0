import type { ChatResult, ProviderName } from './types.js';

/**
 * What went wrong, from the caller's point of view:
 * - `unavailable`: the provider could not serve us (connection refused, timeouts, a broken or
 *   malformed stream, retryable statuses that stayed failing after every retry);
 * - `rejected`: the provider answered and said no for good (4xx such as a bad request, an unknown
 *   model, a bad key, `insufficient_quota`);
 * - `aborted`: our caller aborted the request (client went away); not the provider's fault.
 */
export type ProviderErrorKind = 'unavailable' | 'rejected' | 'aborted';

/** Everything a `ProviderError` is built from; only `provider` and `message` are required. */
export interface ProviderErrorInit {
  /** The adapter that failed. */
  provider: ProviderName;
  /** A short, safe description: never a key, a header, a URL with credentials or a prompt. */
  message: string;
  /** The HTTP status, when the upstream answered with one (or the status its mid-stream error stands for). */
  status?: number;
  /** A stable machine code: the upstream `error.code`, or ours (`connection_refused`, `timeout`, ...). */
  code?: string;
  /** The upstream `error.type` (`rate_limit_error`, `tokens`, `overloaded_error`, ...). */
  type?: string;
  /** Overrides the status-based decision (from `x-should-retry`, or ours for connection errors). */
  retryable?: boolean;
  /** Overrides the kind derived from `retryable`. */
  kind?: ProviderErrorKind;
  /** How long the upstream asked us to wait before retrying (`retry-after-ms` / `retry-after`). */
  retryAfterMs?: number;
  /** The upstream's own error message, cleaned and shortened (see {@link cleanUpstreamMessage}). */
  upstreamMessage?: string;
  /** The upstream request id (`x-request-id`, `request-id`), for support tickets. */
  requestId?: string;
  /** What had arrived before a stream broke: text so far, complete tool calls, usage if any. */
  partial?: ChatResult;
  /** How many HTTP attempts were made in total. */
  attempts?: number;
  /**
   * The upstream had answered a non-streaming call with a 2xx status when it failed (its body was
   * cut off or malformed): the reply was generated, and billed upstream, though it cannot be read.
   */
  answered?: boolean;
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);
/** Error codes/types that look retryable by status but are permanent (OpenAI sends 429 for them). */
const NEVER_RETRY = new Set(['insufficient_quota', 'billing_error', 'billing_hard_limit_reached']);

/** True for the statuses the official SDKs retry: 408, 409, 429 and every 5xx (529 included). */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status) || status >= 500;
}

/**
 * The one error every provider adapter throws. `retryable` is derived from the status
 * (408/409/429/5xx) unless the upstream said otherwise; `insufficient_quota` is never retryable.
 * The message is safe to log and to show: it names the provider, status, type and code only.
 */
export class ProviderError extends Error {
  /** The adapter that failed. */
  readonly provider: ProviderName;
  /** HTTP status, when there was one. */
  readonly status: number | undefined;
  /** Stable machine code (upstream `error.code` or ours). */
  readonly code: string | undefined;
  /** Upstream `error.type`. */
  readonly type: string | undefined;
  /** Whether trying again may succeed. */
  readonly retryable: boolean;
  /** Unavailable, rejected or aborted: what the pipeline maps to an API error. */
  readonly kind: ProviderErrorKind;
  /** Wait the upstream asked for, in ms (0..60 000), if it asked. */
  readonly retryAfterMs: number | undefined;
  /** The upstream's message, cleaned; kept out of `message` because the upstream wrote it. */
  readonly upstreamMessage: string | undefined;
  /** Upstream request id, if any. */
  readonly requestId: string | undefined;
  /** What a broken stream had produced before it broke. */
  readonly partial: ChatResult | undefined;
  /** HTTP attempts made (1 + retries). */
  readonly attempts: number;
  /** A non-streaming 2xx answer that could not be read (see {@link ProviderErrorInit.answered}). */
  readonly answered: boolean;

  constructor(init: ProviderErrorInit) {
    super(init.message);
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.status = init.status;
    this.code = init.code;
    this.type = init.type;
    const permanent = NEVER_RETRY.has(init.code ?? '') || NEVER_RETRY.has(init.type ?? '');
    const byStatus = init.status !== undefined && isRetryableStatus(init.status);
    this.retryable = permanent ? false : (init.retryable ?? byStatus);
    // A 5xx is the provider failing even when retrying would not help (x-should-retry: false).
    const serverSide = init.status !== undefined && init.status >= 500;
    this.kind = init.kind ?? (this.retryable || serverSide ? 'unavailable' : 'rejected');
    this.retryAfterMs = init.retryAfterMs;
    this.upstreamMessage = init.upstreamMessage;
    this.requestId = init.requestId;
    this.partial = init.partial;
    this.attempts = init.attempts ?? 1;
    this.answered = init.answered ?? false;
  }

  /** A copy with some fields replaced (used to attach partial results and attempt counts). */
  with(changes: Partial<ProviderErrorInit>): ProviderError {
    return new ProviderError({ ...this.init(), ...changes });
  }

  /** A log-safe summary: no prompt, no key, no header, no generated text. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      provider: this.provider,
      message: this.message,
      status: this.status,
      code: this.code,
      type: this.type,
      kind: this.kind,
      retryable: this.retryable,
      attempts: this.attempts,
      requestId: this.requestId,
      upstreamMessage: this.upstreamMessage,
    };
  }

  private init(): ProviderErrorInit {
    return {
      provider: this.provider,
      message: this.message,
      status: this.status,
      code: this.code,
      type: this.type,
      // Keep the decision already made (it may have come from x-should-retry).
      retryable: this.retryable,
      kind: this.kind,
      retryAfterMs: this.retryAfterMs,
      upstreamMessage: this.upstreamMessage,
      requestId: this.requestId,
      partial: this.partial,
      attempts: this.attempts,
      answered: this.answered,
    };
  }
}

/** What an upstream error body said, already picked out of its wire's own shape. */
export interface UpstreamErrorDetail {
  /** The upstream `error.type`. */
  type?: string;
  /** The upstream `error.code`. */
  code?: string;
  /** The upstream's own message, as received: it is cleaned here. */
  message?: unknown;
  /** The upstream request id (from the body or the headers, as the wire has it). */
  requestId?: string;
}

/**
 * The error of an upstream that answered with a failure: a non-2xx status, or a mid-stream error
 * standing for one (`status` may then be a guess or unknown). The message names only provider,
 * status, type and code; `x-should-retry` in `headers` overrides the status-based decision, and
 * the never-retry codes stay permanent whatever it says (see {@link ProviderError}).
 */
export function upstreamError(
  provider: ProviderName,
  status: number | undefined,
  detail: UpstreamErrorDetail,
  headers: Record<string, string | string[] | undefined> = {},
): ProviderError {
  return new ProviderError({
    provider,
    message: describeUpstreamError(provider, status, detail.type, detail.code),
    status,
    type: detail.type,
    code: detail.code,
    retryable: parseShouldRetry(headers),
    retryAfterMs: parseRetryAfter(headers),
    upstreamMessage: cleanUpstreamMessage(detail.message),
    requestId: detail.requestId,
  });
}

/** Builds the safe `message` of an upstream error from its status, type and code only. */
export function describeUpstreamError(provider: ProviderName, status: number | undefined, type?: string, code?: string): string {
  const parts = [status !== undefined ? `upstream status ${status}` : 'upstream error'];
  if (type) parts.push(`type ${type}`);
  if (code && code !== type) parts.push(`code ${code}`);
  return `${provider}: ${parts.join(', ')}`;
}

const KEY_PATTERNS = [
  /\b(sk|pk|rk)-[A-Za-z0-9_*-]{6,}/g, // OpenAI- and Anthropic-style (sk-ant-...) keys, including "sk-abc***xyz" echoes
  /\bagk_[A-Za-z0-9_]{6,}/g, // our own key format
  /\bBearer\s+\S+/gi,
];

/**
 * Cleans an upstream error message before it is kept: key-like tokens are redacted and the text
 * is cut to 300 characters (upstream messages can quote parts of the request).
 */
export function cleanUpstreamMessage(message: unknown): string | undefined {
  if (typeof message !== 'string' || message.length === 0) return undefined;
  let out = message;
  for (const pattern of KEY_PATTERNS) out = out.replace(pattern, '[redacted]');
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}

/** Parses `retry-after-ms`, then `retry-after` (seconds or HTTP date); only 0..60 s counts. */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const inRange = (ms: number) => (Number.isFinite(ms) && ms >= 0 && ms <= 60_000 ? ms : undefined);
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && ms.trim() !== '') {
    const value = inRange(Number(ms));
    if (value !== undefined) return value;
  }
  const after = first(headers['retry-after']);
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (!Number.isNaN(seconds)) return inRange(seconds * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : inRange(Math.max(0, date - now));
}

/** Reads `x-should-retry: true|false`, which overrides the status-based decision. */
export function parseShouldRetry(headers: Record<string, string | string[] | undefined>): boolean | undefined {
  const raw = headers['x-should-retry'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** The upstream request id from the usual headers. */
export function requestIdFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers['x-request-id'] ?? headers['request-id'];
  return Array.isArray(raw) ? raw[0] : raw;
}
