import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.js';

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser();
  for (const c of chunks) events.push(...parser.push(c));
  parser.end();
  return events;
}

const STREAM = 'event: delta\ndata: {"text":"Hel"}\n\nevent: delta\ndata: {"text":"lo"}\n\nevent: done\ndata: {"ok":true}\n\n';

describe('SseParser', () => {
  it('parses named events', () => {
    expect(parse([STREAM])).toEqual([
      { event: 'delta', data: '{"text":"Hel"}' },
      { event: 'delta', data: '{"text":"lo"}' },
      { event: 'done', data: '{"ok":true}' },
    ]);
  });

  it('gives the same events however the stream is split, down to single characters', () => {
    const whole = parse([STREAM]);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(parse(chunks)).toEqual(whole);
    }
  });

  it('handles CRLF and CR line ends, even a CRLF split across chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    expect(parse([crlf])).toEqual(parse([STREAM]));
    const at = crlf.indexOf('\r\n') + 1;
    expect(parse([crlf.slice(0, at), crlf.slice(at)])).toEqual(parse([STREAM]));
    expect(parse([STREAM.replace(/\n/g, '\r')])).toEqual(parse([STREAM]));
  });

  it('joins multi-line data, skips comments, defaults the name to message, drops an unfinished event', () => {
    expect(parse([': keep-alive\n\ndata: a\ndata: b\n\nevent: delta\ndata: {"text":"cut"}'])).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('takes the value after "data:" with or without one space', () => {
    expect(parse(['data:x\n\ndata:  y\n\n'])).toEqual([
      { event: 'message', data: 'x' },
      { event: 'message', data: ' y' },
    ]);
  });
});
