/** One server-sent event: its name (`message` when the stream names none) and its data lines. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML, "server-sent events").
 * Network chunks split lines, and even CRLF pairs, anywhere, so it keeps the unfinished tail
 * between calls and only emits an event at the blank line that ends it.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private skipLf = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  /** Feeds decoded text; calls `onEvent` for every event it completes. */
  push(text: string): void {
    let chunk = text;
    if (this.skipLf && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.skipLf = false;
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A CR at the very end may be the first half of a CRLF that the next chunk completes.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) this.skipLf = true;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  /** Ends the stream: a last event without its blank line is dropped, as the spec says. */
  end(): void {
    this.buffer = '';
    this.event = '';
    this.data = [];
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
