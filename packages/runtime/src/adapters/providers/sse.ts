/** Provider streams in the server-sent events format, read with the shared parser. */
import { MAX_SSE_EVENT, SseParser, type SseEvent } from '@agentik/shared';
import { Utf8Reads } from './decode-utf8.js';
import type { ProviderName } from '../../providers/types.js';
import { malformedResponse } from './wire-json.js';

/**
 * Decodes a byte stream as UTF-8 and yields SSE events as they complete, as one array per read
 * that completed any (one step per read, not per event). An event that grows past
 * {@link MAX_SSE_EVENT} fails with a `malformed_response` error of `provider`. `onEnd` learns
 * whether an unfinished event was cut off at EOF.
 */
export async function* parseSseStream(
  body: AsyncIterable<Uint8Array | string>,
  provider: ProviderName,
  onEnd?: (unfinished: boolean) => void,
): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser();
  const utf8 = new Utf8Reads();
  for await (const chunk of body) {
    const events = parser.push(utf8.decode(chunk));
    if (events.length > 0) yield events;
    if (parser.pendingLength > MAX_SSE_EVENT) throw malformedResponse(provider, 'stream event longer than 1 MiB');
  }
  parser.push(utf8.end()); // at most the U+FFFD of a cut character: no line ends there
  if (parser.pendingLength > MAX_SSE_EVENT) throw malformedResponse(provider, 'stream event longer than 1 MiB');
  const unfinished = parser.end();
  onEnd?.(unfinished);
}
