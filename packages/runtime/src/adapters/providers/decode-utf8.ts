import { StringDecoder } from 'node:string_decoder';

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
