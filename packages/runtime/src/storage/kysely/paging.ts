import type { Page, PageRequest } from '../records.js';

/** Fetch `limit + 1` rows ordered by id; this turns them into a page with the next cursor. */
export function toPage<R, T extends { id: string }>(rows: R[], page: PageRequest, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, page.limit).map(map);
  const more = rows.length > page.limit;
  return { items, nextCursor: more && items.length > 0 ? items[items.length - 1]!.id : null };
}
