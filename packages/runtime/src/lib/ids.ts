import { randomFillSync } from 'node:crypto';
import { ID_PREFIX, type IdKind } from '@agentik/shared';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Random bytes are drawn from a pool refilled from the CSPRNG (`randomFillSync`) every 256 ids,
 * instead of one `randomBytes(16)` call (and Buffer) per id. Every id still gets 16 fresh bytes
 * that no earlier id used.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

let lastTime = 0;
/** The 10 time characters of `lastTime`, once an id has been made. */
let lastTimeText = '';
/** The 16 random digits (0-31) of the last id; valid once `lastTimeText` is set. */
const lastRandom = new Uint8Array(16);

/** Fills `digits` with 16 fresh random base-32 digits. */
function drawRandom(digits: Uint8Array): void {
  if (poolOffset + 16 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 16; i++) digits[i] = pool[poolOffset + i]! & 31;
  poolOffset += 16;
}

/** Adds one to the 16-digit number in place; on overflow starts again from fresh randomness. */
function increment(digits: Uint8Array): void {
  for (let i = 15; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return;
    }
    digits[i] = 0;
  }
  drawRandom(digits);
}

/**
 * A lowercase ULID: 10 characters of time, 16 of randomness; ids made in the same millisecond
 * by this process increase, so ordering by id is ordering by creation.
 */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime && lastTimeText !== '') {
    increment(lastRandom);
    now = lastTime;
  } else {
    drawRandom(lastRandom);
    let time = '';
    let t = now;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32] + time;
      t = Math.floor(t / 32);
    }
    lastTimeText = time;
  }
  lastTime = now;
  let id = lastTimeText;
  for (let i = 0; i < 16; i++) id += ALPHABET[lastRandom[i]!];
  return id;
}

/** A new id of the given kind, e.g. `ag_01j9...`. */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${ulid()}`;
}
