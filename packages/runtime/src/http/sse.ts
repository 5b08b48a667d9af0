import type { ServerResponse } from 'node:http';

/** Least time between two writes of a stream after its first (see {@link SseWriter}). */
export const SSE_WRITE_INTERVAL_MS = 1;

/**
 * A Server-Sent Events writer over a raw response. The response starts on the first event, so
 * errors found before any event can still go out as ordinary JSON error responses.
 *
 * Events are coalesced: those sent together are joined and written once, so a burst costs one
 * socket write and one chunk of the chunked encoding instead of one per event. The first write,
 * with the headers, goes out in a microtask: after the events sent in the same synchronous run
 * (the pipeline hands on every delta of one upstream read in one loop), before anything else
 * runs, so the first byte is not held back. Later events go out at most every
 * {@link SSE_WRITE_INTERVAL_MS}: at the end of the event loop's turn (`setImmediate`) when the last
 * write is older, else when it is that old. An upstream that streams faster than that (a fast
 * model, or a server whose chunks reach us a few per read) costs one write per interval instead of
 * one per read, and the last deltas usually go out with the end of the response; a delta waits at
 * most that long. `end()` writes whatever is pending with the end of the response.
 */
export class SseWriter {
  private started = false;
  private pending = '';
  private flushScheduled = false;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly flush = () => {
    this.flushScheduled = false;
    this.timer = undefined;
    if (this.pending === '' || this.res.destroyed || this.res.writableEnded) return;
    const data = this.pending;
    this.pending = '';
    this.lastWrite = performance.now();
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
      const wait = this.lastWrite + SSE_WRITE_INTERVAL_MS - performance.now();
      if (wait <= 0) setImmediate(this.flush);
      else this.timer = setTimeout(this.flush, wait);
    }
  }

  end(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.res.writableEnded) return;
    const data = this.pending;
    this.pending = '';
    if (data === '' || this.res.destroyed) this.res.end();
    else this.res.end(data);
  }
}
