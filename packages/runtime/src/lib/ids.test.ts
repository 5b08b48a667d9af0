import { describe, expect, it } from 'vitest';
import { ID_PREFIX, ULID_PATTERN, idPattern, type IdKind } from '@agentik/shared';
import { newId, ulid } from './ids.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ULID = new RegExp(`^${ULID_PATTERN}$`);

/** The milliseconds encoded in a ULID's first 10 characters. */
function timeOf(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}

describe('ulid', () => {
  it('is 26 lowercase Crockford base32 characters', () => {
    for (let i = 0; i < 200; i++) {
      const id = ulid();
      expect(id).toHaveLength(26);
      expect(id).toMatch(ULID);
      // Crockford's alphabet leaves out i, l, o and u so that ids survive being read aloud.
      expect(id).not.toMatch(/[ilou]/);
    }
  });

  it('encodes the current time in its first 10 characters', () => {
    const before = Date.now();
    const id = ulid();
    const after = Date.now();
    // A generator that already produced an id in a later millisecond keeps that one instead.
    expect(timeOf(id)).toBeGreaterThanOrEqual(before);
    expect(timeOf(id)).toBeLessThanOrEqual(after + 1);
  });

  it('encodes an explicit time exactly when it is later than any id made before', () => {
    const future = Date.now() + 10 * 365 * 24 * 3600 * 1000;
    const id = ulid(future);
    expect(timeOf(id)).toBe(future);
  });

  it('strictly increases for ids made in the same millisecond', () => {
    const at = Date.now() + 20 * 365 * 24 * 3600 * 1000;
    const ids = Array.from({ length: 5_000 }, () => ulid(at));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // All of them carry the same time; only the random part moves on.
    expect(new Set(ids.map((id) => id.slice(0, 10))).size).toBe(1);
  });

  it('keeps increasing when the clock goes backwards', () => {
    const at = Date.now() + 30 * 365 * 24 * 3600 * 1000;
    const first = ulid(at);
    const second = ulid(at - 60_000);
    const third = ulid(0);
    expect(second > first).toBe(true);
    expect(third > second).toBe(true);
    expect(timeOf(second)).toBe(at);
  });

  it('strictly increases over a burst of default-time ids, so order by id is order of creation', () => {
    const ids = Array.from({ length: 10_000 }, () => ulid());
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('newId', () => {
  it('puts the kind prefix in front of a ULID and matches the shared id pattern', () => {
    for (const kind of Object.keys(ID_PREFIX) as IdKind[]) {
      const id = newId(kind);
      expect(id.startsWith(`${ID_PREFIX[kind]}_`)).toBe(true);
      expect(id).toMatch(idPattern(kind));
    }
  });

  it('does not match the pattern of another kind', () => {
    expect(newId('agent')).not.toMatch(idPattern('tenant'));
    expect(newId('tenant')).not.toMatch(idPattern('key'));
  });

  it('orders ids of one kind by creation', () => {
    const ids = Array.from({ length: 500 }, () => newId('tenant'));
    expect([...ids].sort()).toEqual(ids);
  });
});
