/** Small helpers for tests that drive providers against the fake LLM server. */
import { createServer } from 'node:net';
import type { ProviderError } from '../providers/provider-error.js';
import type { ChatResult, StreamEvent } from '../providers/types.js';

/** Fast retries and short timeouts so failure paths run in milliseconds. */
export const FAST_HTTP = { maxRetries: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 5, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000 };

/** Drains a stream: the text events in order and the final result. */
export async function collect(stream: AsyncIterable<StreamEvent>): Promise<{ texts: string[]; result: ChatResult | undefined; events: StreamEvent[] }> {
  const texts: string[] = [];
  const events: StreamEvent[] = [];
  let result: ChatResult | undefined;
  for await (const event of stream) {
    events.push(event);
    if (event.type === 'text') texts.push(...event.texts);
    else result = event.result;
  }
  return { texts, result, events };
}

/** Drains a stream that must fail; returns the error and the text seen before it. */
export async function collectError(stream: AsyncIterable<StreamEvent>): Promise<{ error: ProviderError; texts: string[] }> {
  const texts: string[] = [];
  try {
    for await (const event of stream) if (event.type === 'text') texts.push(...event.texts);
  } catch (error) {
    return { error: error as ProviderError, texts };
  }
  throw new Error('expected the stream to fail');
}

/** Awaits a promise that must reject and returns its error. */
export async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    return error as ProviderError;
  }
  throw new Error('expected a rejection');
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Splits `bytes` at random points (seeded, so a failure can be replayed). */
export function randomSplits(bytes: Uint8Array, seed: number): Uint8Array[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(next() * 40);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** An async iterable over the given chunks. */
export async function* chunksOf<T>(chunks: T[]): AsyncGenerator<T> {
  for (const c of chunks) yield c;
}
