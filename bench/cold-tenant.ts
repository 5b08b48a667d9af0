/**
 * First request to a cold tenant: the tenant exists but its store is not in the pool, so
 * `GET /api/agents` has to open the SQLite file (and check its migrations) before answering.
 * Creates the tenants (one agent and one owner key each), then starts a fresh runtime on the same
 * data dir, so every tenant is cold, and times each tenant's first request, then its second
 * (warm) one for comparison. Done twice: through `app.inject` and through the real HTTP server on
 * 127.0.0.1 (node:http client in the same process, one kept-alive connection). Target: < 5 ms.
 *
 *   node --import tsx bench/cold-tenant.ts [--tenants 300]
 */
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../packages/runtime/src/http/app.js';
import { keepAliveClient } from './lib/clients.js';
import { agentBody, benchRuntime, intArg, tempDataDir, turn, watchdog } from './lib/setup.js';
import { machineLine, ms, printTable, summarize, summaryRow, verdict, type Summary } from './lib/stats.js';

const TARGET_MS = 5;

watchdog(10);
const tenantCount = intArg('tenants', 300);
const dataDir = tempDataDir();

interface BenchTenant {
  id: string;
  key: string;
}

async function seed(): Promise<{ tenants: BenchTenant[]; warm: BenchTenant }> {
  const runtime = await benchRuntime(dataDir);
  const make = async (i: number): Promise<BenchTenant> => {
    const tenant = await runtime.manager.createTenant({ name: `Cold ${i}`, owner: `owner-${i}@example.com` }, 'bench');
    const { secret } = await runtime.manager.createKey(tenant.id, 'owner', 'bench', 'bench');
    const res = await runtime.app.inject({
      method: 'POST',
      url: '/api/agents',
      headers: { authorization: `Bearer ${secret}` },
      payload: agentBody(`agent-${i}`),
    });
    if (res.statusCode !== 201) throw new Error(`create agent: ${res.statusCode} ${res.body}`);
    await turn();
    return { id: tenant.id, key: secret };
  };
  const warm = await make(-1);
  const tenants: BenchTenant[] = [];
  for (let i = 0; i < tenantCount; i++) {
    tenants.push(await make(i));
    if ((i + 1) % 100 === 0) process.stdout.write(`  seeded ${i + 1}/${tenantCount} tenants\r`);
  }
  process.stdout.write('\n');
  await runtime.app.close();
  return { tenants, warm };
}

type Get = (key: string) => Promise<{ status: number; body: string }>;

/** Times the first and second request of every tenant; fails loudly on a wrong answer. */
async function measure(
  runtime: Runtime,
  get: Get,
  tenants: BenchTenant[],
  warm: BenchTenant,
): Promise<{ cold: Summary; coldEvicting: Summary; warm: Summary }> {
  // Compile the request path on one tenant first: the process is warm, only the tenants are cold.
  for (let i = 0; i < 300; i++) {
    await get(warm.key);
    await turn();
  }
  const check = (r: { status: number; body: string }) => {
    if (r.status !== 200 || !r.body.includes('"agent-')) throw new Error(`GET /api/agents: ${r.status} ${r.body.slice(0, 200)}`);
  };
  const before = runtime.pool.stats().size;
  const coldTimes: number[] = [];
  const coldEvictingTimes: number[] = [];
  const warmTimes: number[] = [];
  for (const t of tenants) {
    const evictions = runtime.pool.stats().evictions;
    let t0 = performance.now();
    const first = await get(t.key);
    const took = performance.now() - t0;
    coldTimes.push(took);
    // Once the pool is full, opening a store also closes the least recently used one.
    if (runtime.pool.stats().evictions > evictions) coldEvictingTimes.push(took);
    check(first);
    await turn();
    t0 = performance.now();
    const second = await get(t.key);
    warmTimes.push(performance.now() - t0);
    check(second);
    await turn();
  }
  const opened = runtime.pool.stats();
  if (opened.size + opened.evictions - before !== tenants.length) {
    throw new Error(`expected ${tenants.length} store opens, pool says ${JSON.stringify(opened)}`);
  }
  return { cold: summarize(coldTimes), coldEvicting: summarize(coldEvictingTimes), warm: summarize(warmTimes) };
}

const { tenants, warm } = await seed();

// 1. app.inject on a fresh runtime: no store is open.
let runtime = await benchRuntime(dataDir);
const inject = await measure(
  runtime,
  async (key) => {
    const res = await runtime.app.inject({ method: 'GET', url: '/api/agents', headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.body };
  },
  tenants,
  warm,
);
const poolCapacity = runtime.pool.stats().capacity;
await runtime.app.close();

// 2. The real HTTP server on loopback, again on a fresh runtime.
runtime = await benchRuntime(dataDir);
await runtime.app.listen({ host: '127.0.0.1', port: 0 });
const address = runtime.app.server.address();
if (typeof address !== 'object' || !address) throw new Error('server has no address');
const client = keepAliveClient(`http://127.0.0.1:${address.port}`);
const http = await measure(runtime, (key) => client.get('/api/agents', { authorization: `Bearer ${key}` }), tenants, warm);
client.close();
await runtime.app.close();

console.log(`cold-tenant: first GET /api/agents per tenant, ${tenantCount} tenants, ${machineLine()}`);
const row = (via: string, which: string, s: Summary) => ({
  via,
  request: which,
  n: s.n,
  ...summaryRow(s),
});
printTable(`GET /api/agents latency (tenant key, 1 agent per tenant, pool ${poolCapacity})`, [
  row('app.inject', 'first (cold store)', inject.cold),
  row('app.inject', '  of which evicting', inject.coldEvicting),
  row('app.inject', 'second (warm)', inject.warm),
  row('HTTP 127.0.0.1', 'first (cold store)', http.cold),
  row('HTTP 127.0.0.1', '  of which evicting', http.coldEvicting),
  row('HTTP 127.0.0.1', 'second (warm)', http.warm),
]);
printTable('summary', [
  { metric: `cold p50, inject (target < ${TARGET_MS} ms)`, value: `${ms(inject.cold.p50)} ${verdict(inject.cold.p50, TARGET_MS)}` },
  { metric: `cold p99, inject (target < ${TARGET_MS} ms)`, value: `${ms(inject.cold.p99)} ${verdict(inject.cold.p99, TARGET_MS)}` },
  { metric: `cold p50, HTTP (target < ${TARGET_MS} ms)`, value: `${ms(http.cold.p50)} ${verdict(http.cold.p50, TARGET_MS)}` },
  { metric: `cold p99, HTTP (target < ${TARGET_MS} ms)`, value: `${ms(http.cold.p99)} ${verdict(http.cold.p99, TARGET_MS)}` },
]);
