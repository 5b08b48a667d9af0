import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunksOf, randomSplits } from '../../test-support/fake-llm-helpers.js';
import { FIXTURES_DIR, readFixture } from '../../test-support/fake-llm.js';
import { MAX_SSE_EVENT, SseParser, type SseEvent } from '@agentik/shared';
import { parseSseStream } from './sse.js';

const parseAll = (text: string) => new SseParser().push(text);

async function parseChunks(chunks: (Uint8Array | string)[]): Promise<{ events: SseEvent[]; unfinished: boolean }> {
  const events: SseEvent[] = [];
  let unfinished = false;
  for await (const read of parseSseStream(chunksOf(chunks), 'openai', (u) => (unfinished = u))) events.push(...read);
  return { events, unfinished };
}

describe('SseParser', () => {
  it('dispatches an event at a blank line with its event name and data', () => {
    expect(parseAll('event: ping\ndata: {"type": "ping"}\n\n')).toEqual([{ event: 'ping', data: '{"type": "ping"}', id: undefined }]);
  });

  it('defaults the event name to message and joins several data lines with \\n', () => {
    expect(parseAll('data: {\ndata:  "a": 1\ndata: }\n\n')).toEqual([{ event: 'message', data: '{\n "a": 1\n}', id: undefined }]);
  });

  it('strips exactly one space after the colon', () => {
    expect(parseAll('data:x\n\ndata:  y\n\n').map((e) => e.data)).toEqual(['x', ' y']);
  });

  it('accepts CRLF, CR and LF line endings alike', () => {
    const want = [{ event: 'a', data: '1', id: undefined }, { event: 'b', data: '2', id: undefined }];
    expect(parseAll('event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n')).toEqual(want);
    expect(parseAll('event: a\rdata: 1\r\revent: b\rdata: 2\r\r')).toEqual(want);
    expect(parseAll('event: a\ndata: 1\n\nevent: b\ndata: 2\n\n')).toEqual(want);
  });

  it('handles a CRLF split across two chunks without seeing an extra blank line', () => {
    const p = new SseParser();
    expect(p.push('data: 1\r')).toEqual([]);
    expect(p.push('\ndata: 2\r')).toEqual([]);
    expect(p.push('\n\r')).toEqual([{ event: 'message', data: '1\n2', id: undefined }]);
    expect(p.push('\n')).toEqual([]);
  });

  it('ignores comments (keep-alives), unknown fields and retry', () => {
    expect(parseAll(': keep-alive\n\nretry: 100\nfoo: bar\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('keeps the last id and treats a field without a colon as empty', () => {
    const events = parseAll('id: 7\ndata\n\ndata: y\n\n');
    expect(events).toEqual([
      { event: 'message', data: '', id: '7' },
      { event: 'message', data: 'y', id: '7' },
    ]);
  });

  it('does not dispatch an event with no data, and resets the event name after it', () => {
    expect(parseAll('event: a\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('drops a leading BOM', () => {
    expect(parseAll('\uFEFFdata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('discards an unterminated event at EOF and reports it', async () => {
    const { events, unfinished } = await parseChunks(['data: a\n\ndata: b']);
    expect(events.map((e) => e.data)).toEqual(['a']);
    expect(unfinished).toBe(true);
    expect((await parseChunks(['data: a\n\n'])).unfinished).toBe(false);
  });

  it('decodes a multi-byte character split across reads', async () => {
    const bytes = new TextEncoder().encode('data: héllo 👋\n\n');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const { events } = await parseChunks(chunks);
    expect(events).toEqual([{ event: 'message', data: 'héllo 👋', id: undefined }]);
  });
});

describe('SSE event size limit', () => {
  const failure = (chunks: string[]) => parseChunks(chunks).then(() => undefined, (error: unknown) => error);

  it('fails with malformed_response on an unterminated line longer than the limit', async () => {
    const half = 'a'.repeat(MAX_SSE_EVENT / 2);
    const error = await failure(['data: {"type":"ping"}\n\n', `data: ${half}`, half, half]);
    expect(error).toMatchObject({ provider: 'openai', code: 'malformed_response', retryable: false, message: 'openai: malformed response (stream event longer than 1 MiB)' });
  });

  it('counts every data line of an event that never gets its blank line, empty ones included', async () => {
    expect(await failure(Array.from({ length: 20 }, () => `data: ${'b'.repeat(MAX_SSE_EVENT / 16)}\n`))).toMatchObject({ code: 'malformed_response' });
    expect(await failure(['data\n'.repeat(MAX_SSE_EVENT + 1)])).toMatchObject({ code: 'malformed_response' });
  });

  it('accepts events just under the limit, however many', async () => {
    const line = `data: ${'c'.repeat(MAX_SSE_EVENT - 10)}\n\n`;
    const { events } = await parseChunks([line, line, line]);
    expect(events).toHaveLength(3);
    expect(events[2]?.data).toHaveLength(MAX_SSE_EVENT - 10);
  });
});

describe('SSE fixtures replayed byte for byte', () => {
  const files = ['openai', 'anthropic', 'ollama'].flatMap((dir) =>
    readdirSync(`${FIXTURES_DIR}/${dir}`)
      .filter((f) => f.endsWith('.sse'))
      .map((f) => `${dir}/${f}`),
  );

  it.each(files)('%s: one byte at a time and at random split points give the same events', async (file) => {
    const text = readFixture(file);
    const whole = parseAll(text);
    expect(whole.length).toBeGreaterThan(3);
    for (const e of whole) {
      if (e.data !== '[DONE]') {
        const data = JSON.parse(e.data) as { type?: string };
        if (file.startsWith('anthropic/')) expect(data.type).toBe(e.event);
      }
    }
    const bytes = new TextEncoder().encode(text);
    expect((await parseChunks(Array.from(bytes, (b) => Uint8Array.of(b)))).events).toEqual(whole);
    for (let seed = 1; seed <= 25; seed++) {
      expect((await parseChunks(randomSplits(bytes, seed))).events).toEqual(whole);
    }
    // The same stream with CRLF line endings parses the same.
    expect((await parseChunks(randomSplits(new TextEncoder().encode(text.replace(/\n/g, '\r\n')), 99))).events).toEqual(whole);
  });
});
