/**
 * Tenant creation time: TenantManager.createTenant on a temp SQLite data dir, which provisions
 * the tenant file (WAL, migrations) and writes the tenant, owner, membership and audit rows in
 * one master transaction. Target: p50 < 20 ms.
 *
 *   node --import tsx bench/tenant-create.ts [--n 300] [--warmup 20]
 */
import { performance } from 'node:perf_hooks';
import { benchRuntime, intArg, tempDataDir, watchdog } from './lib/setup.js';
import { machineLine, ms, printTable, summarize, summaryRow, verdict } from './lib/stats.js';

const TARGET_P50_MS = 20;

watchdog(10);
const n = intArg('n', 300);
const warmup = intArg('warmup', 20);

const dataDir = tempDataDir();
const runtime = await benchRuntime(dataDir);
const { manager } = runtime;

// The first creations also compile the code paths; they are timed apart and left out.
const warmupTimes: number[] = [];
for (let i = 0; i < warmup; i++) {
  const t0 = performance.now();
  await manager.createTenant({ name: `Warmup ${i}`, owner: `warmup-${i}@example.com` }, 'bench');
  warmupTimes.push(performance.now() - t0);
}

const times: number[] = [];
const started = performance.now();
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  await manager.createTenant({ name: `Bench tenant ${i}`, owner: `owner-${i}@example.com`, plan: 'pro' }, 'bench');
  times.push(performance.now() - t0);
}
const total = performance.now() - started;
await runtime.app.close();

const s = summarize(times);
const w = summarize(warmupTimes);
console.log(`tenant-create: TenantManager.createTenant, SQLite, ${machineLine()}`);
printTable('tenant creation time', [
  { run: `measured (n=${s.n})`, ...summaryRow(s) },
  { run: `warm-up, not counted (n=${w.n})`, ...summaryRow(w) },
]);
printTable('summary', [
  { metric: 'throughput', value: `${((n / total) * 1000).toFixed(0)} tenants/s` },
  { metric: `p50 (target < ${TARGET_P50_MS} ms)`, value: `${ms(s.p50)} ${verdict(s.p50, TARGET_P50_MS)}` },
]);
