import { describe, expect, it } from 'vitest';
import { ProviderError, cleanUpstreamMessage, describeUpstreamError, isRetryableStatus, parseRetryAfter, parseShouldRetry, requestIdFrom, upstreamError } from './provider-error.js';

describe('ProviderError', () => {
  it('derives retryable from the status: 408, 409, 429 and 5xx (529 included)', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 422]) expect(isRetryableStatus(status)).toBe(false);
    expect(new ProviderError({ provider: 'openai', message: 'x', status: 429 })).toMatchObject({ retryable: true, kind: 'unavailable' });
    expect(new ProviderError({ provider: 'openai', message: 'x', status: 400 })).toMatchObject({ retryable: false, kind: 'rejected' });
    expect(new ProviderError({ provider: 'openai', message: 'x' })).toMatchObject({ retryable: false, kind: 'rejected', attempts: 1 });
  });

  it('never retries insufficient_quota or billing errors, whatever the status or headers say', () => {
    expect(new ProviderError({ provider: 'openai', message: 'x', status: 429, code: 'insufficient_quota', retryable: true })).toMatchObject({ retryable: false, kind: 'rejected' });
    expect(new ProviderError({ provider: 'anthropic', message: 'x', status: 402, type: 'billing_error' }).retryable).toBe(false);
  });

  it('keeps its decision and fields through with()', () => {
    const e = new ProviderError({ provider: 'anthropic', message: 'm', status: 500, retryable: false, requestId: 'r' });
    const copy = e.with({ attempts: 3 });
    expect(copy).toMatchObject({ retryable: false, kind: 'unavailable', attempts: 3, requestId: 'r', status: 500, name: 'ProviderError' });
  });

  it('serialises to a log-safe summary', () => {
    const e = new ProviderError({
      provider: 'openai',
      message: describeUpstreamError('openai', 401, 'invalid_request_error', 'invalid_api_key'),
      status: 401,
      upstreamMessage: cleanUpstreamMessage('Incorrect API key provided: sk-proj-abc123456789. You can find your API key at ...'),
      partial: { text: 'generated secret', toolCalls: [], finishReason: 'unknown', usage: { inputTokens: 1, outputTokens: undefined } },
    });
    const json = JSON.stringify(e);
    expect(json).not.toContain('sk-proj-abc123456789');
    expect(json).not.toContain('generated secret');
    expect(e.message).toBe('openai: upstream status 401, type invalid_request_error, code invalid_api_key');
    expect(describeUpstreamError('ollama', undefined)).toBe('ollama: upstream error');
  });
});

describe('cleanUpstreamMessage', () => {
  it('redacts key-like tokens and bounds the length', () => {
    expect(cleanUpstreamMessage('bad key sk-ant-api03-abcdefgh and Bearer xyz.123 and agk_live_0123456789')).toBe('bad key [redacted] and [redacted] and [redacted]');
    expect(cleanUpstreamMessage('a'.repeat(1000))?.length).toBe(300);
    expect(cleanUpstreamMessage('')).toBeUndefined();
    expect(cleanUpstreamMessage(42)).toBeUndefined();
  });

  it('redacts Anthropic keys (sk-ant-...) with the general sk- pattern, short ones and echoes included', () => {
    expect(cleanUpstreamMessage('key sk-ant-api03-Ab_9-xYz012345678901234567890-AAAA invalid')).toBe('key [redacted] invalid');
    expect(cleanUpstreamMessage('key sk-ant-ab given')).toBe('key [redacted] given');
    expect(cleanUpstreamMessage('key sk-ant-api03-abc***wxyz given')).toBe('key [redacted] given');
  });
});

describe('upstreamError', () => {
  it('builds a log-safe error from status and detail, with the headers deciding retry and wait', () => {
    const e = upstreamError('openai', 429, { type: 'tokens', code: 'rate_limit_exceeded', message: 'slow down, sk-proj-abcdefghij', requestId: 'req_1' }, { 'retry-after': '2' });
    expect(e).toMatchObject({ status: 429, type: 'tokens', code: 'rate_limit_exceeded', retryable: true, kind: 'unavailable', retryAfterMs: 2000, requestId: 'req_1' });
    expect(e.message).toBe('openai: upstream status 429, type tokens, code rate_limit_exceeded');
    expect(e.upstreamMessage).toBe('slow down, [redacted]');
    expect(upstreamError('ollama', undefined, {})).toMatchObject({ message: 'ollama: upstream error', retryable: false, requestId: undefined });
  });

  it('lets x-should-retry override the status, but never a never-retry code', () => {
    expect(upstreamError('anthropic', 500, {}, { 'x-should-retry': 'false' })).toMatchObject({ retryable: false, kind: 'unavailable' });
    expect(upstreamError('anthropic', 400, {}, { 'x-should-retry': 'true' })).toMatchObject({ retryable: true, kind: 'unavailable' });
    expect(upstreamError('openai', 429, { code: 'insufficient_quota' }, { 'x-should-retry': 'true' })).toMatchObject({ retryable: false, kind: 'rejected' });
    expect(upstreamError('anthropic', 402, { type: 'billing_error', code: 'billing_error' })).toMatchObject({ retryable: false, kind: 'rejected' });
  });
});

describe('retry headers', () => {
  it('prefers retry-after-ms, then retry-after seconds or date, within 0..60 s', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '5' })).toBe(250);
    expect(parseRetryAfter({ 'retry-after-ms': 'junk', 'retry-after': '2' })).toBe(2000);
    expect(parseRetryAfter({ 'retry-after': '0' })).toBe(0);
    expect(parseRetryAfter({ 'retry-after': '120' })).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '-1' })).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': ['3', '9'] })).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }, now)).toBe(10_000);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 01:00:00 GMT' }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter({})).toBeUndefined();
  });

  it('reads x-should-retry and the request id', () => {
    expect(parseShouldRetry({ 'x-should-retry': 'true' })).toBe(true);
    expect(parseShouldRetry({ 'x-should-retry': ['false'] })).toBe(false);
    expect(parseShouldRetry({ 'x-should-retry': 'maybe' })).toBeUndefined();
    expect(requestIdFrom({ 'x-request-id': 'a' })).toBe('a');
    expect(requestIdFrom({ 'request-id': ['b'] })).toBe('b');
  });
});
