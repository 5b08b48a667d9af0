/**
 * What the per-tenant concurrent-call limit and the upstream socket share add to one model call:
 * an acquire and a release of each, in-process (the default, on every request's hot path), and
 * the tenant slot through Redis (with AGENTIK_REDIS_URL: one round trip to acquire, one not
 * awaited to release). Prints ns per request (in-process) and the round-trip percentiles (Redis).
 *
 *   node --import tsx bench/concurrency-limits.ts [--n 1000000] [--redis-n 5000]
 */
import { performance } from 'node:perf_hooks';
import { LocalConcurrencyLimiter } from '../packages/runtime/src/limits/concurrency-limiter.js';
import { RedisConcurrencyLimiter } from '../packages/runtime/src/adapters/limits/redis-concurrency-limiter.js';
import { intArg, watchdog } from './lib/setup.js';
import { machineLine, printTable, summarize, summaryRow } from './lib/stats.js';

watchdog(5);
const n = intArg('n', 1_000_000);
const redisN = intArg('redis-n', 5_000);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

console.log(`concurrency limits: tenant slot + upstream share per model call; ${machineLine()}`);

const local = new LocalConcurrencyLimiter();
const rows: Record<string, string>[] = [];
for (let round = 1; round <= 3; round++) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const tenant = await local.acquire('tn_bench', 64);
    const share = await local.acquire('tn_bench http://127.0.0.1:11434', 64);
    share!.release();
    tenant!.release();
  }
  rows.push({ round: String(round), calls: String(n), 'ns per call': (((performance.now() - t0) * 1e6) / n).toFixed(0) });
}
printTable('in-process (both checks, acquire + release)', rows);

const redis = new RedisConcurrencyLimiter(REDIS_URL, 30_000, `agentik:bench:${process.pid}:`);
try {
  const times: number[] = [];
  for (let i = 0; i < redisN; i++) {
    const t0 = performance.now();
    const lease = await redis.acquire('tn_bench', 64);
    times.push(performance.now() - t0);
    lease!.release();
  }
  printTable('Redis tenant slot (acquire round trip)', [summaryRow(summarize(times))]);
} catch (error) {
  console.log(`Redis at ${REDIS_URL} not usable (${(error as Error).message}); skipped`);
} finally {
  await redis.close();
}
