import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Summary of a list of durations in milliseconds. */
export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    mean,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function ms(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : '-';
}

/**
 * The p50, p90, p99, mean and max columns of a table row, formatted with `ms`, in that order;
 * `mean: false` leaves the mean out. Spread it between a row's own columns.
 */
export function summaryRow(s: Summary, options: { mean?: boolean } = {}): Record<string, string> {
  const { mean = true } = options;
  return { p50: ms(s.p50), p90: ms(s.p90), p99: ms(s.p99), ...(mean ? { mean: ms(s.mean) } : {}), max: ms(s.max) };
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `met` or `MISSED`, for a measured value that should stay below a target. */
export function verdict(value: number, below: number): string {
  return value < below ? 'met' : 'MISSED';
}

/** Prints rows as an aligned plain-text table; numbers are right-aligned. */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (row: Record<string, string | number>, col: string) => String(row[col] ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (cells: string[], alignRight: boolean[]) =>
    cells.map((c, i) => (alignRight[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const numeric = columns.map((c, i) => i > 0 && rows.every((r) => /^[-\d.,]+( ms| MB|%|\/s| s)?$|^-$/.test(cell(r, c))));
  console.log(`\n${title}`);
  console.log(line(columns, numeric));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(columns.map((c) => cell(row, c)), numeric));
}

/** One line about the machine, since every number here depends on it and on its load. */
export function machineLine(): string {
  return `node ${process.version}, ${os.cpus().length} cpu (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/** Ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux build in use. */
const USER_HZ = 100;

/**
 * CPU time (user + system) a process has used so far, in ms, from `/proc/<pid>/stat`; `NaN` where
 * there is no /proc. Its resolution is 10 ms, so use it over runs of seconds.
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/**
 * Starts measuring the CPU time (user + system) of the processes in `pids` (from /proc) and of
 * this one (`self`); `perRequest(n)` divides what each used since then by `n` requests, in ms.
 */
export function cpuMeter<K extends string>(pids: Record<K, number | undefined>) {
  const names = Object.keys(pids) as K[];
  const before = new Map(names.map((k) => [k, processCpuMs(pids[k])]));
  const self0 = process.cpuUsage();
  const used = (): Record<K | 'self', number> => {
    const self = process.cpuUsage(self0);
    const out = { self: (self.user + self.system) / 1000 } as Record<K | 'self', number>;
    for (const k of names) out[k] = processCpuMs(pids[k]) - before.get(k)!;
    return out;
  };
  return {
    /** CPU milliseconds each process used since the meter started. */
    used,
    perRequest(requests: number): Record<K | 'self', number> {
      const out = used();
      for (const k of Object.keys(out) as Array<K | 'self'>) out[k] = requests > 0 ? out[k] / requests : Number.NaN;
      return out;
    },
  };
}
