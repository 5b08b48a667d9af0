/**
 * Newline-delimited JSON framing: a line can be split across reads, so buffer until `\n`.
 * Lines are returned as text; parsing (and what a bad line means) is the caller's business.
 */
import { readFramed } from './decode-utf8.js';
import type { ProviderName } from '../../providers/types.js';

/**
 * Longest unterminated line held while waiting for its `\n`, in UTF-16 units (about 1 MiB of
 * ASCII). A real line is a few hundred bytes; a server that never ends one must not fill memory.
 */
export const MAX_NDJSON_LINE = 1024 * 1024;

/** Incremental line splitter. `push` decoded text, then `end` at EOF for a last unterminated line. */
export class NdjsonSplitter {
  private buffer = '';

  /** Length of the unterminated line held so far. */
  get pendingLength(): number {
    return this.buffer.length;
  }

  /** Adds text and returns the complete, non-blank lines it finished (a trailing `\r` removed). */
  push(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    let newline = text.indexOf('\n', start);
    while (newline !== -1) {
      this.emit(this.buffer + text.slice(start, newline), lines);
      this.buffer = '';
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    this.buffer += text.slice(start);
    return lines;
  }

  /** Returns the last line if the stream ended without a final `\n` (empty when it did). */
  end(): string[] {
    const lines: string[] = [];
    this.emit(this.buffer, lines);
    this.buffer = '';
    return lines;
  }

  private emit(line: string, into: string[]): void {
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.trim() !== '') into.push(trimmed);
  }
}

/**
 * Decodes a byte stream as UTF-8 and yields its non-blank lines, including an unterminated last
 * one, as one array per read that completed any. A line longer than {@link MAX_NDJSON_LINE} fails
 * with a `malformed_response` error.
 */
export function parseNdjsonLines(body: AsyncIterable<Uint8Array | string>, provider: ProviderName): AsyncGenerator<string[]> {
  const splitter = new NdjsonSplitter();
  return readFramed(body, provider, splitter, { units: MAX_NDJSON_LINE, what: 'line' }, () => splitter.end());
}
