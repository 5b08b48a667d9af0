import { usdText } from '@agentik/shared';

const integer = new Intl.NumberFormat('en-US');

/**
 * US dollars, the same rule everywhere so one amount never shows two ways: cents from one dollar
 * up; below it three significant digits (at least two decimals), since single replies cost
 * fractions of a cent that "$0.00" would hide. `null` (no price known) shows as a dash.
 */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return usdText(value);
}

/** A token count with thousands separators; `null` (not reported by the provider) shows as a dash. */
export function formatTokens(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return integer.format(value);
}

/** A timestamp as a short local date and time, e.g. "Mar 5, 2025, 14:03". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-US', { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** How long ago `iso` was, relative to `now`: "just now", "5 min ago", "3 h ago", "2 d ago", else the date. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 30) return `${days} d ago`;
  return formatDateTime(iso);
}

/** `part` as a whole percentage of `whole` (0 when there is no whole). */
export function percentOf(part: number, whole: number | null | undefined): number {
  if (!whole || whole <= 0) return 0;
  return Math.round((part / whole) * 100);
}

/** "YYYY-MM-DD" of a date in UTC (the API's days and budget months are UTC). */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Every UTC day from `from` to `to` inclusive, as "YYYY-MM-DD"; empty when the range is reversed. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) {
    out.push(utcDay(new Date(t)));
  }
  return out;
}

/** The slug the server assigns to a tenant created without one (one function, in @agentik/shared). */
export { slugify } from '@agentik/shared';
