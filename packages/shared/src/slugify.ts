/** Longest slug made from a name: room is left for the `-xxxxxx` the server appends when it is taken. */
export const MAX_DERIVED_SLUG = 50;

/**
 * The slug the server assigns to a tenant created without one, and the one the dashboard
 * previews: "Acme Corp." -> "acme-corp", "Über Café" -> "uber-cafe"; a name with no letter or
 * digit gives "tenant". When the slug is already taken the server appends a short suffix.
 */
export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    // NFKD splits "é" into "e" and a combining accent; drop the accents so they do not split words.
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_DERIVED_SLUG)
    .replace(/-+$/g, '');
  return base === '' ? 'tenant' : base;
}
