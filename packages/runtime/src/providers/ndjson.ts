/**
 * Newline-delimited JSON framing: a line can be split across reads, so buffer until `\n`.
 * Lines are returned as text; parsing (and what a bad line means) is the caller's business.
 */

/** Incremental line splitter. `push` decoded text, then `end` at EOF for a last unterminated line. */
export class NdjsonSplitter {
  private buffer = '';

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

/** Decodes a byte stream as UTF-8 and yields its non-blank lines, including an unterminated last one. */
export async function* parseNdjsonLines(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  const splitter = new NdjsonSplitter();
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const line of splitter.push(text)) yield line;
  }
  for (const line of splitter.push(decoder.decode())) yield line;
  for (const line of splitter.end()) yield line;
}
