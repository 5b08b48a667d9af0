import { randomBytes } from 'node:crypto';
import { ID_PREFIX, type IdKind } from '@agentik/shared';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

let lastTime = 0;
let lastRandom: number[] = [];

/**
 * A lowercase ULID: 10 characters of time, 16 of randomness; ids made in the same millisecond
 * by this process increase, so ordering by id is ordering by creation.
 */
export function ulid(now: number = Date.now()): string {
  let random: number[];
  if (now <= lastTime && lastRandom.length === 16) {
    random = increment(lastRandom);
    now = lastTime;
  } else {
    const bytes = randomBytes(16);
    random = Array.from(bytes, (b) => b & 31);
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((d) => ALPHABET[d]).join('');
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return Array.from(randomBytes(16), (b) => b & 31);
}

/** A new id of the given kind, e.g. `ag_01j9...`. */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${ulid()}`;
}
