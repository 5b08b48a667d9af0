import { describe, expect, it } from 'vitest';
import { bearerToken, displayPrefix, generateApiKey, hashApiKey } from './api-keys.js';

describe('generateApiKey', () => {
  it('carries at least 256 random bits after a recognisable prefix', () => {
    const key = generateApiKey();
    expect(key.startsWith('agk_')).toBe(true);
    const body = key.slice('agk_'.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(body, 'base64url').length * 8).toBeGreaterThanOrEqual(256);
  });

  it('never repeats and does not share long common prefixes', () => {
    const keys = Array.from({ length: 2_000 }, () => generateApiKey());
    expect(new Set(keys).size).toBe(keys.length);
    // With 256 random bits, two keys agreeing on their first 8 random characters (48 bits) would
    // mean the generator is not random.
    expect(new Set(keys.map((k) => k.slice(0, 12))).size).toBe(keys.length);
  });

  it('spreads over the whole base64url alphabet', () => {
    const seen = new Set(
      Array.from({ length: 500 }, () => generateApiKey().slice(4))
        .join('')
        .split(''),
    );
    expect(seen.size).toBe(64);
  });

  it('is accepted back by bearerToken', () => {
    const key = generateApiKey();
    expect(bearerToken(`Bearer ${key}`)).toBe(key);
  });
});

describe('hashApiKey', () => {
  it('is a SHA-256 hex digest: stable, and different per key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(b));
    expect(hashApiKey(a)).not.toContain(a.slice(4, 20));
  });

  it('matches the known SHA-256 of a fixed input', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('displayPrefix', () => {
  it('shows the prefix and 6 characters, far too little to use', () => {
    const key = generateApiKey();
    const shown = displayPrefix(key);
    expect(shown).toBe(key.slice(0, 10));
    expect(shown.length).toBeLessThan(key.length / 3);
  });
});

describe('bearerToken', () => {
  const key = 'agk_abcDEF123-_xyz';

  it.each([
    [`Bearer ${key}`, key],
    [`bearer ${key}`, key],
    [`BEARER ${key}`, key],
    [`Bearer    ${key}`, key],
    [`Bearer ${key}   `, key],
    ['Bearer !#$%&*+.~', '!#$%&*+.~'],
  ])('reads %j', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['only the scheme', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['a scheme glued to the key', `Bearer${key}`],
    ['another scheme', `Basic ${key}`],
    ['text before the scheme', `xBearer ${key}`],
    ['a space before the scheme', ` Bearer ${key}`],
    ['a tab as separator', `Bearer\t${key}`],
    ['two tokens', `Bearer ${key} other`],
    ['a trailing newline', `Bearer ${key}\n`],
    ['an embedded newline', `Bearer ${key}\nX-Evil: 1`],
    ['non-ASCII characters', `Bearer ${key}é`],
    ['a NUL byte', `Bearer ${key}\u0000`],
    ['a key longer than 512 characters', `Bearer ${'a'.repeat(513)}`],
  ])('refuses %s', (_what, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });

  it('accepts a key of exactly 512 characters', () => {
    const long = 'a'.repeat(512);
    expect(bearerToken(`Bearer ${long}`)).toBe(long);
  });

  it('refuses a repeated header (an array), even when each value would be valid', () => {
    expect(bearerToken([`Bearer ${key}`, `Bearer ${key}`])).toBeUndefined();
    expect(bearerToken([`Bearer ${key}`])).toBeUndefined();
  });
});
