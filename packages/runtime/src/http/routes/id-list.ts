import { z } from 'zod';

/** A query string of up to `max` comma-separated ids (`?ids=a,b,c`), trimmed and de-duplicated. */
export function idList(max: number) {
  return z
    .string()
    .min(1)
    .max(max * 64)
    .transform((s) => [...new Set(s.split(',').map((id) => id.trim()).filter(Boolean))])
    .pipe(z.array(z.string().min(1).max(200)).min(1).max(max));
}
