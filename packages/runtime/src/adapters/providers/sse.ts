/** Provider streams in the server-sent events format, read with the shared parser. */
import { MAX_SSE_EVENT, SseParser, type SseEvent } from '@agentik/shared';
import { readFramed } from './decode-utf8.js';
import type { ProviderName } from '../../providers/types.js';

/**
 * Decodes a byte stream as UTF-8 and yields SSE events as they complete, as one array per read
 * that completed any (one step per read, not per event). An event that grows past
 * {@link MAX_SSE_EVENT} fails with a `malformed_response` error of `provider`. `onEnd` learns
 * whether an unfinished event was cut off at EOF.
 */
export function parseSseStream(
  body: AsyncIterable<Uint8Array | string>,
  provider: ProviderName,
  onEnd?: (unfinished: boolean) => void,
): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser();
  return readFramed(body, provider, parser, { units: MAX_SSE_EVENT, what: 'event' }, () => {
    onEnd?.(parser.end());
    return [];
  });
}
