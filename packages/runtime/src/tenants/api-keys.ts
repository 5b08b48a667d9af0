import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'agk_';

/** A new API key: 256 random bits, base64url, with a recognisable prefix. */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Keys carry 256 bits of entropy, so one SHA-256 pass is enough to make the stored hash useless
 * to an attacker; a slow password hash would only slow every request down.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The part of a key that lists show: enough to tell keys apart, far too little to use. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 6);
}

/** Reads the key out of an `Authorization: Bearer <key>` header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i.exec(header);
  return match?.[1];
}
