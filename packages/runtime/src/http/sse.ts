import type { ServerResponse } from 'node:http';

/**
 * A Server-Sent Events writer over a raw response. The response starts on the first event, so
 * errors found before any event can still go out as ordinary JSON error responses.
 *
 * Events are coalesced: those sent together are joined and written once, so a burst costs one
 * socket write and one chunk of the chunked encoding instead of one per event. The first write,
 * with the headers, goes out in a microtask: after the events sent in the same synchronous run
 * (the pipeline hands on every delta of one upstream read in one loop), before anything else
 * runs, so the first byte is not held back. Later events wait for the end of the event loop's
 * turn (`setImmediate`): a read's deltas reach the writer in several microtasks. `end()` writes
 * whatever is pending with the end of the response.
 */
export class SseWriter {
  private started = false;
  private pending = '';
  private flushScheduled = false;
  private readonly flush = () => {
    this.flushScheduled = false;
    if (this.pending === '' || this.res.destroyed || this.res.writableEnded) return;
    const data = this.pending;
    this.pending = '';
    this.res.write(data);
  };

  constructor(private readonly res: ServerResponse) {}

  get hasStarted(): boolean {
    return this.started;
  }

  /** Writes one event; `data` is JSON-encoded, or sent as is when it is a string. */
  send(event: string | undefined, data: unknown): void {
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    this.frame(event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`);
  }

  /**
   * Writes one event given whole as its wire text (`data: …\n\n`): for the event of every text
   * delta, which a route builds from a prefix and a suffix made once per stream.
   */
  frame(frame: string): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      this.pending = frame;
      this.flushScheduled = true;
      queueMicrotask(this.flush);
      return;
    }
    this.pending += frame;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  end(): void {
    if (this.res.writableEnded) return;
    const data = this.pending;
    this.pending = '';
    if (data === '' || this.res.destroyed) this.res.end();
    else this.res.end(data);
  }
}
