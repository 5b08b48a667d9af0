import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SSE_WRITE_INTERVAL_MS, SseWriter } from './sse.js';

/** Records what the writer does to its response: each write, and the end with its data. */
function recordingResponse() {
  const calls: string[] = [];
  const res = {
    destroyed: false,
    writableEnded: false,
    headers: undefined as Record<string, string> | undefined,
    writeHead(status: number, headers: Record<string, string>) {
      calls.push(`head ${status}`);
      res.headers = headers;
      return res;
    },
    write(data: string) {
      calls.push(`write ${data}`);
      return true;
    },
    end(data?: string) {
      res.writableEnded = true;
      calls.push(data === undefined ? 'end' : `end ${data}`);
      return res;
    },
  };
  return { res, calls, writer: new SseWriter(res as unknown as ServerResponse) };
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SseWriter', () => {
  it('sends the first write in a microtask, with the events of the same synchronous run', async () => {
    const { res, calls, writer } = recordingResponse();
    writer.frame('data: a\n\n');
    writer.send(undefined, { b: 1 });
    writer.send('delta', 'plain');
    expect(calls).toEqual(['head 200']);
    await Promise.resolve();
    expect(calls).toEqual(['head 200', 'write data: a\n\ndata: {"b":1}\n\nevent: delta\ndata: plain\n\n']);
    expect(res.headers?.['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(writer.hasStarted).toBe(true);
  });

  it('writes later events together at most every interval, and at the end of the turn after a quiet one', async () => {
    const { calls, writer } = recordingResponse();
    writer.frame('data: 1\n\n');
    await Promise.resolve();
    // Right after a write: held for the rest of the interval, then written together.
    writer.frame('data: 2\n\n');
    writer.frame('data: 3\n\n');
    await immediate();
    expect(calls).toEqual(['head 200', 'write data: 1\n\n']);
    await sleep(SSE_WRITE_INTERVAL_MS + 20);
    expect(calls.slice(1)).toEqual(['write data: 1\n\n', 'write data: 2\n\ndata: 3\n\n']);
    // After a quiet interval: written at the end of the event loop's turn.
    await sleep(SSE_WRITE_INTERVAL_MS + 5);
    writer.frame('data: 4\n\n');
    await immediate();
    expect(calls.at(-1)).toBe('write data: 4\n\n');
  });

  it('end writes what is pending with the end of the response, and nothing is written after it', async () => {
    const { calls, writer } = recordingResponse();
    writer.frame('data: 1\n\n');
    await Promise.resolve();
    writer.frame('data: 2\n\n');
    writer.end();
    writer.frame('data: late\n\n');
    await sleep(SSE_WRITE_INTERVAL_MS + 20);
    expect(calls).toEqual(['head 200', 'write data: 1\n\n', 'end data: 2\n\n']);
  });

  it('a response that ends before its first write ends with the first events', async () => {
    const { calls, writer } = recordingResponse();
    writer.frame('data: only\n\n');
    writer.end();
    await sleep(SSE_WRITE_INTERVAL_MS + 5);
    expect(calls).toEqual(['head 200', 'end data: only\n\n']);
  });

  it('writes nothing to a response the client closed', async () => {
    const { res, calls, writer } = recordingResponse();
    writer.frame('data: 1\n\n');
    res.destroyed = true;
    await sleep(SSE_WRITE_INTERVAL_MS + 5);
    writer.frame('data: 2\n\n');
    writer.end();
    expect(calls).toEqual(['head 200', 'end']);
  });
});
