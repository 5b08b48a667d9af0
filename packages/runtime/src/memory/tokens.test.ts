import { describe, expect, it } from 'vitest';
import { BYTES_PER_TOKEN, estimateMessageTokens, estimateTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.js';

describe('estimateTokens', () => {
  it('is ceil(UTF-8 bytes / 4): about four characters per token for ASCII text', () => {
    expect(BYTES_PER_TOKEN).toBe(4);
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a')).toBe(1);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('Hello, world! How are you today?')).toBe(8);
    expect(estimateTokens('x'.repeat(4000))).toBe(1000);
  });

  it('counts non-Latin scripts by bytes so they are not undercounted', () => {
    expect(estimateTokens('привет')).toBe(3); // 6 letters, 12 bytes
    expect(estimateTokens('你好世界')).toBe(3); // 4 characters, 12 bytes
    expect(estimateTokens('🙂🙂')).toBe(2); // 2 emoji, 8 bytes
    expect(estimateTokens('日本語'.repeat(100))).toBeGreaterThan('日本語'.repeat(100).length / 4);
  });

  it('is deterministic', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    expect(estimateTokens(text)).toBe(estimateTokens(text));
  });
});

describe('estimateMessageTokens', () => {
  it('adds the per-message overhead, which is also the floor of an empty message', () => {
    expect(MESSAGE_OVERHEAD_TOKENS).toBe(4);
    expect(estimateMessageTokens('')).toBe(4);
    expect(estimateMessageTokens('abcdefgh')).toBe(6);
  });
});
