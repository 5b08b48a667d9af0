import { Agent, request, type Dispatcher } from 'undici';
import { guardedConnector, type AddressGuard } from './address-guard.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { ProviderName } from '../../providers/types.js';
import { malformedResponse } from './wire-json.js';

/**
 * Connection, timeout and retry settings for upstream LLM calls. All optional. The timeouts are
 * undici's, which check them about every half second: a value under a second fires late.
 */
export interface HttpClientOptions {
  /** TCP (+TLS) connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Time to the response headers, i.e. the first byte. Default 120 s. A non-streaming call only
   * gets its headers once the whole reply is generated, so this also bounds `complete()`.
   */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. Default 120 s. */
  bodyTimeoutMs?: number;
  /** Retries after the first attempt on retryable failures. Default 2 (so 3 attempts). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with up to 25% jitter subtracted. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Backoff ceiling. Default 8 s. */
  retryMaxDelayMs?: number;
  /** Most sockets kept per upstream origin. Default 128. */
  connectionsPerOrigin?: number;
  /** How long an idle pooled socket is kept open. Default 30 s. */
  keepAliveTimeoutMs?: number;
}

/** The retry part of {@link HttpClientOptions}, resolved. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff delay. */
  baseDelayMs: number;
  /** Backoff ceiling. */
  maxDelayMs: number;
}

/** One upstream request. The URL may not carry credentials; send them in `headers`. */
export interface UpstreamRequest {
  /** Absolute URL (`http(s)://host[:port]/path`). */
  url: string;
  /** HTTP method; POST when omitted. */
  method?: 'GET' | 'POST';
  /** Request headers, credentials included. Never copied into errors. */
  headers: Record<string, string>;
  /** A JSON body, serialised here. */
  body?: unknown;
  /** Aborts the request: the connection is destroyed. */
  signal?: AbortSignal;
}

/** A response that came back with a 2xx status; its body is not read yet. */
export interface UpstreamResponse {
  /** HTTP status (2xx). */
  status: number;
  /** Response headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The body, chunk by chunk. Read it to the end or call `discard()`. */
  body: AsyncIterable<Uint8Array>;
  /** Reads the whole body as text, at most {@link MAX_RESPONSE_BODY} bytes (beyond that it is a malformed response). */
  text(): Promise<string>;
  /** Drops the body: closes the connection if it was not fully read. */
  discard(): void;
}

/** Turns a non-2xx response into the adapter's `ProviderError` (each wire has its own error body). */
export type ErrorBodyParser = (status: number, bodyText: string, headers: Record<string, string | string[] | undefined>) => ProviderError;

const MAX_ERROR_BODY = 64 * 1024;
/**
 * Largest non-streaming body read. A whole reply with tool calls is well under a megabyte; the
 * base URL may be a tenant's own server, which must not make us buffer gigabytes.
 */
export const MAX_RESPONSE_BODY = 16 * 1024 * 1024;

/**
 * Shared connection pool: one per runtime, handing out a pooled `Pool` per origin, each of
 * `connectionsPerOrigin` sockets. With `guard`, every connection goes to an address the guard
 * resolved and checked (tenant-chosen URLs).
 */
export function createUpstreamAgent(options: HttpClientOptions = {}, guard?: AddressGuard): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  return new Agent({
    connect: guard ? guardedConnector(guard, { timeout }) : { timeout },
    headersTimeout: options.headersTimeoutMs ?? 120_000,
    bodyTimeout: options.bodyTimeoutMs ?? 120_000,
    connections: options.connectionsPerOrigin ?? 128,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
  });
}

/** Resolves the retry settings with their defaults. */
export function retryPolicy(options: HttpClientOptions = {}): RetryPolicy {
  return {
    maxRetries: Math.max(0, options.maxRetries ?? 2),
    baseDelayMs: options.retryBaseDelayMs ?? 500,
    maxDelayMs: options.retryMaxDelayMs ?? 8_000,
  };
}

/**
 * The upstream HTTP client of one provider instance: pooled connections (undici), timeouts,
 * retries with backoff, abort. Built once per provider instance, never per request; instances
 * for several credentials can share one `Agent` so sockets are pooled per origin.
 */
export class HttpClient {
  /** The retry settings in force. */
  readonly retry: RetryPolicy;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(
    private readonly provider: ProviderName,
    options: HttpClientOptions = {},
    dispatcher?: Dispatcher,
  ) {
    this.retry = retryPolicy(options);
    this.dispatcher = dispatcher ?? createUpstreamAgent(options);
    this.ownsDispatcher = dispatcher === undefined;
  }

  /**
   * Sends one request (one attempt, no retry). Resolves with a 2xx response; rejects with a
   * `ProviderError` built by `parseError` for any other status, or one for a connection failure,
   * a timeout or an abort.
   */
  async send(req: UpstreamRequest, parseError: ErrorBodyParser): Promise<UpstreamResponse> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, {
        dispatcher: this.dispatcher,
        method: req.method ?? 'POST',
        headers: req.body === undefined ? req.headers : { 'content-type': 'application/json', ...req.headers },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: req.signal,
      });
    } catch (err) {
      throw transportError(this.provider, err, req.signal, 'connect');
    }
    const headers = res.headers as Record<string, string | string[] | undefined>;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await readBounded(res.body, MAX_ERROR_BODY).then(
        (read) => read.text,
        () => '',
      );
      throw parseError(res.statusCode, text, headers);
    }
    return {
      status: res.statusCode,
      headers,
      body: guardBody(this.provider, res.body, req.signal),
      text: async () => {
        let read: BoundedRead;
        try {
          read = await readBounded(res.body, MAX_RESPONSE_BODY);
        } catch (err) {
          throw transportError(this.provider, err, req.signal, 'body');
        }
        if (read.overflow) throw malformedResponse(this.provider, 'response body larger than 16 MiB');
        return read.text;
      },
      discard: () => {
        if (!res.body.destroyed) res.body.destroy();
      },
    };
  }

  /**
   * Runs `attempt` with retries: a retryable `ProviderError` thrown before `attempt` yielded
   * anything is retried after a backoff (or the upstream's `retry-after`), up to `maxRetries`
   * times. Once something was yielded to the caller, errors pass through untouched, and so does
   * an `answered` one (a 2xx reply cut off mid-body): the upstream generated and billed that reply,
   * so the caller books it rather than paying for a second call it would not know of.
   */
  async *withRetries<T>(signal: AbortSignal | undefined, attempt: () => AsyncIterable<T>): AsyncGenerator<T> {
    for (let n = 0; ; n++) {
      let yielded = false;
      try {
        for await (const item of attempt()) {
          yielded = true;
          yield item;
        }
        return;
      } catch (err) {
        const error = err instanceof ProviderError ? err : unexpected(this.provider, err);
        const attempts = n + 1;
        if (yielded || error.answered || !error.retryable || error.kind === 'aborted' || n >= this.retry.maxRetries) {
          throw error.with({ attempts });
        }
        await sleep(retryDelay(error, n, this.retry), signal).catch((e: unknown) => {
          throw transportError(this.provider, e, signal, 'connect').with({ attempts });
        });
      }
    }
  }

  /** Closes the pool if this client created it (a shared Agent is closed by its owner). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

/** Backoff for retry number `n` (0-based): the upstream's wish if it gave one, else exponential with jitter. */
export function retryDelay(error: ProviderError, n: number, policy: RetryPolicy): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  const base = Math.min(policy.baseDelayMs * 2 ** n, policy.maxDelayMs);
  return Math.round(base * (1 - Math.random() * 0.25));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface BoundedRead {
  /** The body, or its first `limit` bytes when it was longer. */
  text: string;
  /** True when the body was longer than `limit` (the rest was not read; the connection is closed). */
  overflow: boolean;
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<BoundedRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      overflow = true;
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), overflow };
}

/**
 * The body of a streamed answer as an async iterable over its data events: each step hands on
 * every byte that arrived since the previous one, in one chunk, so a read of the socket that held
 * many chunks of the upstream's chunked encoding costs one step (and no async generator of Node's
 * stream iterator). The body is paused while more than {@link BODY_HIGH_WATER} bytes wait for the
 * reader. Read failures (cut, idle timeout, abort) become `ProviderError`s, after the bytes that
 * came before them; a reader that stops early closes the connection.
 */
function guardBody(provider: ProviderName, body: Dispatcher.ResponseData['body'], signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => new BodyReader(provider, body, signal) };
}

const BODY_HIGH_WATER = 64 * 1024;

class BodyReader implements AsyncIterator<Uint8Array> {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private readonly notify = () => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  constructor(
    private readonly provider: ProviderName,
    private readonly body: Dispatcher.ResponseData['body'],
    private readonly signal: AbortSignal | undefined,
  ) {
    body.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > BODY_HIGH_WATER) body.pause();
      this.notify();
    });
    body.once('end', () => {
      this.ended = true;
      this.notify();
    });
    body.once('error', (error: unknown) => {
      this.failure ??= { error };
      this.notify();
    });
    body.once('close', () => {
      if (!this.ended) this.failure ??= { error: Object.assign(new Error('body closed early'), { code: 'UND_ERR_SOCKET' }) };
      this.notify();
    });
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    while (this.chunks.length === 0 && !this.ended && this.failure === undefined) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.chunks.length > 0) {
      const value = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = [];
      this.size = 0;
      if (this.body.isPaused()) this.body.resume();
      return { done: false, value };
    }
    if (this.failure) throw transportError(this.provider, this.failure.error, this.signal, 'body');
    return { done: true, value: undefined };
  }

  /** The reader stopped: a body not read to the end is destroyed, so its socket is not reused. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.body.destroyed && !this.body.readableEnded) this.body.destroy();
    return { done: true, value: undefined };
  }
}

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection_refused',
  ENOTFOUND: 'host_not_found',
  EAI_AGAIN: 'host_not_found',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'host_unreachable',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'body_timeout',
  AGENTIK_ADDRESS_NOT_ALLOWED: 'address_not_allowed',
};

/** Maps an undici/network failure (or an abort) to a `ProviderError` without leaking request details. */
export function transportError(
  provider: ProviderName,
  err: unknown,
  signal: AbortSignal | undefined,
  phase: 'connect' | 'body',
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted || isAbortError(err)) {
    return new ProviderError({ provider, message: `${provider}: request aborted`, code: 'aborted', kind: 'aborted', retryable: false });
  }
  const rawCode = errorCode(err);
  const code = (rawCode && CONNECT_CODES[rawCode]) ?? (phase === 'body' ? 'connection_reset' : 'connection_failed');
  const what: Record<string, string> = {
    connection_refused: 'connection refused',
    host_not_found: 'host not found',
    host_unreachable: 'host unreachable',
    connection_reset: phase === 'body' ? 'stream interrupted (connection closed)' : 'connection closed',
    connect_timeout: 'connect timed out',
    timeout: 'no response before the timeout (first byte)',
    body_timeout: 'stream stalled (body idle timeout)',
    connection_failed: 'connection failed',
    address_not_allowed: 'the host resolves to an address this server does not call',
  };
  return new ProviderError({
    provider,
    message: `${provider}: ${what[code] ?? 'connection failed'}${rawCode ? ` (${rawCode})` : ''}`,
    code,
    retryable: code !== 'address_not_allowed',
    kind: 'unavailable',
  });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown }).cause;
  return cause && cause !== err ? errorCode(cause) : undefined;
}

function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ((err as Error).name === 'AbortError' || errorCode(err) === 'UND_ERR_ABORTED');
}

function unexpected(provider: ProviderName, err: unknown): ProviderError {
  // A bug of ours, not the upstream's: keep it visible but never retry it.
  const name = err instanceof Error ? err.name : typeof err;
  return new ProviderError({ provider, message: `${provider}: unexpected failure (${name})`, code: 'internal', retryable: false, kind: 'unavailable' });
}

/** The first item of an attempt run through `withRetries` (for non-streaming calls). */
export async function firstOf<T>(items: AsyncIterable<T>, provider: ProviderName): Promise<T> {
  for await (const item of items) return item;
  throw unexpected(provider, new Error('no result'));
}
