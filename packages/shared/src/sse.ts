/**
 * A server-sent events parser (WHATWG "event stream interpretation"), incremental: feed it text
 * as it arrives, in chunks split anywhere, and it returns the events completed so far. The one
 * parser of the project: the runtime reads its providers' streams with it, the dashboard the
 * runtime's, and the tests both.
 */

/**
 * Most text held for one event before its blank line (its data lines plus the unterminated
 * line), in UTF-16 units (about 1 MiB of ASCII). Real events are small; a server that never ends
 * one must not fill memory.
 */
export const MAX_SSE_EVENT = 1024 * 1024;

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or `message` when the event had none. */
  event: string;
  /** Every `data:` line of the event, joined with `\n`. */
  data: string;
  /** The `id:` field, if the event carried one. */
  id: string | undefined;
}

/** Incremental SSE parser. `push` text (already UTF-8 decoded), then `end` at EOF. */
export class SseParser {
  private buffer = '';
  private eventType = '';
  private dataLines: string[] = [];
  private dataLength = 0;
  private lastId: string | undefined;
  private sawCarriageReturn = false;
  private first = true;

  /** Length of the text held for the event being built: its data lines and the unterminated line. */
  get pendingLength(): number {
    return this.dataLength + this.buffer.length;
  }

  /** Adds text and returns the events it completed. */
  push(text: string): SseEvent[] {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10 /* \n */) {
        if (this.sawCarriageReturn && i === start && this.buffer.length === 0) {
          // The \n of a \r\n whose \r ended the previous line (possibly in the previous chunk).
          this.sawCarriageReturn = false;
          start = i + 1;
          continue;
        }
        this.line(this.buffer + text.slice(start, i), events);
        this.buffer = '';
        start = i + 1;
        this.sawCarriageReturn = false;
      } else if (ch === 13 /* \r */) {
        this.line(this.buffer + text.slice(start, i), events);
        this.buffer = '';
        start = i + 1;
        this.sawCarriageReturn = true;
      } else if (this.sawCarriageReturn) {
        this.sawCarriageReturn = false;
      }
    }
    this.buffer += text.slice(start);
    return events;
  }

  /**
   * Signals EOF. Per the spec an event without its terminating blank line is discarded; returns
   * true when such an unfinished event (or line) was pending, so callers can tell a cut stream.
   */
  end(): boolean {
    const pending = this.buffer.length > 0 || this.dataLines.length > 0 || this.eventType !== '';
    this.buffer = '';
    this.dataLines = [];
    this.dataLength = 0;
    this.eventType = '';
    return pending;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) {
        events.push({ event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastId });
      }
      this.dataLines = [];
      this.dataLength = 0;
      this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return; // a comment, e.g. a keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        this.dataLength += value.length + 1; // the joining \n: empty data lines count too
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default: // `retry` and unknown fields: nothing for us to do
        break;
    }
  }
}
