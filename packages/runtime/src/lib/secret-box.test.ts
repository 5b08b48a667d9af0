import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, parseKey } from './secret-box.js';

const KEY = Buffer.alloc(32, 7);
const box = new SecretBox(KEY);

function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  it('round-trips a secret bound to its tenant, with a fresh IV every time', () => {
    const a = box.seal('sk-live-1234', 'tenant-a');
    const b = box.seal('sk-live-1234', 'tenant-a');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('sk-live');
    expect(box.open(a, 'tenant-a')).toBe('sk-live-1234');
    expect(box.open(b, 'tenant-a')).toBe('sk-live-1234');
  });

  it('keeps unicode and empty strings intact', () => {
    expect(box.open(box.seal('ключ🔑', 't'), 't')).toBe('ключ🔑');
    expect(box.open(box.seal('', 't'), 't')).toBe('');
  });

  it("does not open under another tenant's context", () => {
    const sealed = box.seal('sk-live-1234', 'tenant-a');
    expect(() => box.open(sealed, 'tenant-b')).toThrow();
  });

  it('does not open under another key', () => {
    const sealed = box.seal('sk-live-1234', 'tenant-a');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'tenant-a')).toThrow();
  });

  it.each([
    [1, 'iv'],
    [2, 'tag'],
    [3, 'ciphertext'],
  ])('detects a tampered %s (part %#)', (part) => {
    const sealed = box.seal('sk-live-1234', 'tenant-a');
    expect(() => box.open(tamper(sealed, part), 'tenant-a')).toThrow();
  });

  it('refuses things that are not sealed secrets', () => {
    expect(() => box.open('sk-live-1234', 't')).toThrow('not a sealed secret');
    expect(() => box.open('v2.a.b.c', 't')).toThrow('not a sealed secret');
    expect(() => box.open('v1..b.c', 't')).toThrow('not a sealed secret');
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow('32 bytes');
  });
});

describe('parseKey', () => {
  it('reads 64 hex characters or base64 of 32 bytes', () => {
    const raw = randomBytes(32);
    expect(parseKey(raw.toString('hex')).equals(raw)).toBe(true);
    expect(parseKey(` ${raw.toString('base64')}\n`).equals(raw)).toBe(true);
  });

  it('refuses anything else', () => {
    expect(() => parseKey('abcd')).toThrow('must be 32 bytes');
    expect(() => parseKey(randomBytes(31).toString('base64'))).toThrow('must be 32 bytes');
  });
});
