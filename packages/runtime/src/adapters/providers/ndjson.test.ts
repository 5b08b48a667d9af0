import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunksOf, randomSplits } from '../../test-support/fake-llm-helpers.js';
import { FIXTURES_DIR, readFixture } from '../../test-support/fake-llm.js';
import { MAX_NDJSON_LINE, NdjsonSplitter, parseNdjsonLines } from './ndjson.js';

async function lines(chunks: (Uint8Array | string)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const read of parseNdjsonLines(chunksOf(chunks), 'ollama')) out.push(...read);
  return out;
}

describe('NdjsonSplitter', () => {
  it('returns complete lines only, buffering a split line', () => {
    const s = new NdjsonSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n')).toEqual(['{"b":2}']);
    expect(s.end()).toEqual([]);
  });

  it('skips blank lines, strips a trailing \\r, and yields an unterminated last line at EOF', async () => {
    expect(await lines(['{"a":1}\r\n\n  \n{"b":2}'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('decodes multi-byte characters split across reads', async () => {
    const bytes = new TextEncoder().encode('{"t":"naïve ☕"}\n');
    expect(await lines(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(['{"t":"naïve ☕"}']);
  });
});

describe('NDJSON line size limit', () => {
  it('fails with malformed_response on an unterminated line longer than the limit', async () => {
    const half = 'x'.repeat(MAX_NDJSON_LINE / 2);
    const error = await lines(['{"a":1}\n', `{"t":"${half}`, half, half]).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ provider: 'ollama', code: 'malformed_response', retryable: false, message: 'ollama: malformed response (stream line longer than 1 MiB)' });
  });

  it('accepts lines just under the limit, however many', async () => {
    const line = `"${'y'.repeat(MAX_NDJSON_LINE - 2)}"\n`;
    expect((await lines([line, line, line])).map((l) => l.length)).toEqual([MAX_NDJSON_LINE, MAX_NDJSON_LINE, MAX_NDJSON_LINE]);
  });
});

describe('NDJSON fixtures replayed byte for byte', () => {
  const files = readdirSync(`${FIXTURES_DIR}/ollama`).filter((f) => f.endsWith('.ndjson')).map((f) => `ollama/${f}`);

  it.each(files)('%s: every split gives the same JSON lines', async (file) => {
    const text = readFixture(file);
    const whole = text.split('\n').filter(Boolean);
    for (const line of whole) JSON.parse(line);
    const bytes = new TextEncoder().encode(text);
    expect(await lines(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(whole);
    for (let seed = 1; seed <= 25; seed++) expect(await lines(randomSplits(bytes, seed))).toEqual(whole);
  });
});
