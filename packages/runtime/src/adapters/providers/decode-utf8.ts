import { StringDecoder } from 'node:string_decoder';
import type { ProviderName } from '../../providers/types.js';
import { malformedResponse } from './wire-json.js';

/**
 * Decodes a byte stream as UTF-8, read by read: a multi-byte character split across reads is held
 * back until its last byte arrives, and a leading byte order mark is dropped (as `TextDecoder`
 * does). Reads that are already strings pass through. Node's `StringDecoder`, not `TextDecoder`:
 * the same text, without the cost of an ICU converter per stream.
 */
export class Utf8Reads {
  private readonly decoder = new StringDecoder('utf8');
  private first = true;

  /** The text of one read. */
  decode(chunk: Uint8Array | string): string {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    return this.first ? this.start(text) : text;
  }

  /** At EOF: what was held back (U+FFFD for an incomplete character), usually empty. */
  end(): string {
    return this.start(this.decoder.end());
  }

  private start(text: string): string {
    if (text === '' || !this.first) return text;
    this.first = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/** An incremental splitter of decoded text into items (lines, events). */
export interface TextFramer<T> {
  /** Adds text; returns the items it completed. */
  push(text: string): T[];
  /** Text held for the item being built. */
  readonly pendingLength: number;
}

/**
 * Decodes a byte stream as UTF-8, frames it with `framer`, and yields the items one array per read
 * that completed any (one step per read, not per item: a read often holds several, and that is
 * what keeps a streamed reply cheap). An item that grows past `limit` UTF-16 units fails with a
 * `malformed_response` error of `provider`; at EOF, `finish` gives the last items.
 */
export async function* readFramed<T>(
  body: AsyncIterable<Uint8Array | string>,
  provider: ProviderName,
  framer: TextFramer<T>,
  limit: { units: number; what: string },
  finish: () => T[],
): AsyncGenerator<T[]> {
  const utf8 = new Utf8Reads();
  const tooLong = () => malformedResponse(provider, `stream ${limit.what} longer than 1 MiB`);
  for await (const chunk of body) {
    const items = framer.push(utf8.decode(chunk));
    if (items.length > 0) yield items;
    if (framer.pendingLength > limit.units) throw tooLong();
  }
  framer.push(utf8.end()); // at most the U+FFFD of a cut character: no item ends there
  if (framer.pendingLength > limit.units) throw tooLong();
  const last = finish();
  if (last.length > 0) yield last;
}
