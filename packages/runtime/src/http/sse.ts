import type { ServerResponse } from 'node:http';

/**
 * A Server-Sent Events writer over a raw response. The response starts on the first event, so
 * errors found before any event can still go out as ordinary JSON error responses.
 */
export class SseWriter {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  get hasStarted(): boolean {
    return this.started;
  }

  /** Writes one event; `data` is JSON-encoded, or sent as is when it is a string. */
  send(event: string | undefined, data: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
    }
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    this.res.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
