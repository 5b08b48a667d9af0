/** Identifier shapes. Ids are a prefix and a 26-character lowercase ULID (time-ordered). */
export const ULID_PATTERN = '[0-9a-hjkmnp-tv-z]{26}';

export const ID_PREFIX = {
  tenant: 'tn',
  user: 'usr',
  key: 'key',
  agent: 'ag',
  audit: 'aud',
  conversation: 'cv',
  message: 'msg',
  costEvent: 'ce',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${ID_PREFIX[kind]}_${ULID_PATTERN}$`);
}

/** Slugs: lowercase letters, digits and inner hyphens, 1..63 characters (DNS label rules). */
export const SLUG_REGEX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
