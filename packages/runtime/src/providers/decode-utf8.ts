/**
 * Decodes a byte stream as UTF-8, read by read: a multi-byte character split across reads is held
 * back until its last byte arrives. Reads that are already strings pass through.
 */
export class Utf8Reads {
  private readonly decoder = new TextDecoder('utf-8');

  /** The text of one read. */
  decode(chunk: Uint8Array | string): string {
    return typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
  }

  /** At EOF: what was held back (U+FFFD for an incomplete character), usually empty. */
  end(): string {
    return this.decoder.decode();
  }
}
