/**
 * Memory with many tenants: creates 10,000 tenants, then touches each one with
 * `GET /api/agents` (operator key + X-Tenant-ID, through `app.inject`) while the pool holds at
 * most 256 open stores (AGENTIK_TENANT_POOL_SIZE=256), and prints the process RSS before and
 * after, with the pool's stats. Run node with --expose-gc so the numbers are taken after a full
 * collection. Target: RSS after < 300 MB.
 *
 *   node --expose-gc --import tsx bench/pool-rss.ts [--tenants 10000] [--pool 256]
 */
import { performance } from 'node:perf_hooks';
import { benchRuntime, intArg, operatorHeaders, tempDataDir, turn, watchdog } from './lib/setup.js';
import { machineLine, mb, ms, printTable, summarize, verdict } from './lib/stats.js';

const TARGET_RSS_BYTES = 300 * 1024 * 1024;

watchdog(20);
const tenantCount = intArg('tenants', 10_000);
const poolSize = intArg('pool', 256);
const gc = (globalThis as { gc?: () => void }).gc;

interface Snapshot {
  phase: string;
  rss: number;
  heapUsed: number;
  external: number;
}
const snapshots: Snapshot[] = [];
const snapshot = (phase: string) => {
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  snapshots.push({ phase, rss: m.rss, heapUsed: m.heapUsed, external: m.external });
};
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const dataDir = tempDataDir();
const runtime = await benchRuntime(dataDir, { AGENTIK_TENANT_POOL_SIZE: String(poolSize) });
snapshot('runtime built, no tenants');

// 1. Create the tenants through the manager (provisions each SQLite file).
const ids: string[] = [];
const createStart = performance.now();
for (let i = 0; i < tenantCount; i++) {
  const tenant = await runtime.manager.createTenant({ name: `Tenant ${i}`, owner: `owner-${i}@example.com` }, 'bench');
  ids.push(tenant.id);
  await turn();
  if ((i + 1) % 1000 === 0 || i + 1 === tenantCount) {
    console.log(`  created ${i + 1}/${tenantCount} tenants (${elapsed(createStart)})`);
  }
}
const createMs = performance.now() - createStart;
snapshot(`${tenantCount} tenants created, none touched`);

// 2. Touch every tenant once; all but the last `poolSize` are evicted on the way.
const touchTimes: number[] = [];
const touchStart = performance.now();
for (let i = 0; i < ids.length; i++) {
  const t0 = performance.now();
  const res = await runtime.app.inject({ method: 'GET', url: '/api/agents', headers: operatorHeaders(ids[i]) });
  touchTimes.push(performance.now() - t0);
  await turn();
  if (res.statusCode !== 200) throw new Error(`GET /api/agents for ${ids[i]}: ${res.statusCode} ${res.body}`);
  if ((i + 1) % 2000 === 0 || i + 1 === ids.length) console.log(`  touched ${i + 1}/${ids.length} tenants (${elapsed(touchStart)})`);
}
const touchMs = performance.now() - touchStart;
snapshot(`${tenantCount} tenants touched, pool ${poolSize}`);

// 3. Touch them all a second time: memory should not keep growing with the number of passes.
for (const id of ids) {
  const res = await runtime.app.inject({ method: 'GET', url: '/api/agents', headers: operatorHeaders(id) });
  if (res.statusCode !== 200) throw new Error(`GET /api/agents for ${id}: ${res.statusCode}`);
  await turn();
}
snapshot('second pass over all tenants');
const stats = runtime.pool.stats();
await runtime.app.close();
snapshot('runtime closed');

console.log(`pool-rss: ${tenantCount} tenants through a pool of ${poolSize}, ${machineLine()}`);
if (!gc) console.log('note: global.gc is not exposed (run node with --expose-gc); figures include uncollected garbage');
printTable('memory (after a full GC when exposed)', snapshots.map((s) => ({
  phase: s.phase,
  rss: mb(s.rss),
  'heap used': mb(s.heapUsed),
  external: mb(s.external),
})));
const t = summarize(touchTimes);
const before = snapshots[1]!;
const after = snapshots[2]!;
printTable('summary', [
  { metric: 'tenant creation', value: `${(createMs / 1000).toFixed(1)} s total, ${ms(createMs / tenantCount)} per tenant` },
  { metric: 'touch (first GET /api/agents each)', value: `${(touchMs / 1000).toFixed(1)} s total, p50 ${ms(t.p50)}, p99 ${ms(t.p99)}` },
  { metric: 'pool after touching', value: `size ${stats.size}, capacity ${stats.capacity}, evictions ${stats.evictions}` },
  { metric: 'RSS before touching', value: mb(before.rss) },
  { metric: 'RSS after touching', value: mb(after.rss) },
  { metric: 'RSS after second pass', value: mb(snapshots[3]!.rss) },
  { metric: 'RSS after touching (target < 300 MB)', value: `${mb(after.rss)} ${verdict(after.rss, TARGET_RSS_BYTES)}` },
]);
