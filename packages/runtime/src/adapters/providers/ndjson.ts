/**
 * Newline-delimited JSON framing: a line can be split across reads, so buffer until `\n`.
 * Lines are returned as text; parsing (and what a bad line means) is the caller's business.
 */
import { Utf8Reads } from './decode-utf8.js';
import type { ProviderName } from '../../providers/types.js';
import { malformedResponse } from './wire-json.js';

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
 * one, as one array per read that completed any (a read often holds several lines, and one step
 * per read instead of per line is what keeps a streamed reply cheap). A line longer than
 * {@link MAX_NDJSON_LINE} fails with a `malformed_response` error.
 */
export async function* parseNdjsonLines(body: AsyncIterable<Uint8Array | string>, provider: ProviderName): AsyncGenerator<string[]> {
  const splitter = new NdjsonSplitter();
  const utf8 = new Utf8Reads();
  for await (const chunk of body) {
    const lines = splitter.push(utf8.decode(chunk));
    if (lines.length > 0) yield lines;
    if (splitter.pendingLength > MAX_NDJSON_LINE) throw malformedResponse(provider, 'stream line longer than 1 MiB');
  }
  splitter.push(utf8.end()); // at most the U+FFFD of a cut character: no line ends there
  if (splitter.pendingLength > MAX_NDJSON_LINE) throw malformedResponse(provider, 'stream line longer than 1 MiB');
  const last = splitter.end();
  if (last.length > 0) yield last;
}
