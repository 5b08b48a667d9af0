/**
 * The Postgres backend: tenant creation time (schema + role + tables in one transaction, plus
 * the master rows) and requests/s through the message pipeline with one and with two runtime
 * processes on one database. Each run makes a fresh database (as the tests do: superuser from
 * AGENTIK_TEST_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and drops it.
 * The LLM is a local instant fake, so the numbers are the runtime's and the database's cost.
 *
 *   node --import tsx bench/postgres.ts [--tenants 100] [--duration 5]
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { autocannon, callJson } from './lib/clients.js';
import { loadRuntime } from './lib/load-runtime.js';
import { startServeProcess, stopServeProcess } from './lib/serve-process.js';
import { benchLogLevel, benchRuntime, intArg, operatorHeaders, tempDataDir, watchdog } from './lib/setup.js';
import { machineLine, printTable, summarize, summaryRow, verdict } from './lib/stats.js';

watchdog(10);
const tenantCount = intArg('tenants', 100);
const duration = intArg('duration', 5);
const CONCURRENCY = [10, 50];

// Registers the `@agentik/shared` alias before the test-support modules below are linked.
await loadRuntime();
const { createTestDatabase } = await import('../packages/runtime/src/test-support/postgres.js');
const { startFakeLlm } = await import('../packages/runtime/src/test-support/fake-llm.js');

const db = await createTestDatabase();
const llm = await startFakeLlm({ instant: true, recordRequests: false });
const pgEnv = { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_ENCRYPTION_KEY: 'ef'.repeat(32), AGENTIK_OLLAMA_URL: llm.url };
const children: ChildProcess[] = [];

/** autocannon with a JSON POST body. */
const post = (url: string, connections: number, headers: Record<string, string>, body: unknown) =>
  autocannon({ url, connections, duration, method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** `agentik serve` in its own process on the benchmark database. */
async function startServer(): Promise<string> {
  const { child, url } = await startServeProcess({ ...pgEnv, AGENTIK_DATA_DIR: tempDataDir() });
  children.push(child);
  return url;
}

try {
  // 1. Tenant creation, in process: provision (role + schema + migrations) and master rows.
  const runtime = await benchRuntime(tempDataDir(), pgEnv);
  for (let i = 0; i < 5; i++) await runtime.manager.createTenant({ name: `warm ${i}`, owner: 'b@example.com' }, 'bench');
  const samples: number[] = [];
  for (let i = 0; i < tenantCount; i++) {
    const started = performance.now();
    await runtime.manager.createTenant({ name: `tenant ${i}`, owner: 'b@example.com' }, 'bench');
    samples.push(performance.now() - started);
  }
  await runtime.app.close();
  const created = summarize(samples);

  // 2. Messages through the pipeline: one process, then two on the same database.
  const first = await startServer();
  const tenant = await callJson(`${first}/api/tenants`, 'POST', operatorHeaders(), { name: 'Throughput', owner: 'b@example.com', plan: 'enterprise' });
  const agent = await callJson(`${first}/api/agents`, 'POST', operatorHeaders(String(tenant.id)), {
    name: 'bench',
    systemPrompt: 'Be brief.',
    provider: 'ollama',
    model: 'llama3.2',
    maxTokens: 64,
  });
  const path = `/api/agents/${String(agent.id)}/messages`;
  const headers = operatorHeaders(String(tenant.id));
  const body = { content: 'What is the capital of France?' };
  await post(`${first}${path}`, 10, headers, body);
  const rows: Array<Record<string, string | number>> = [];
  const measure = async (urls: string[], connections: number) => {
    const parts = await Promise.all(urls.map((u) => post(`${u}${path}`, Math.max(1, Math.round(connections / urls.length)), headers, body)));
    const bad = parts.reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (bad > 0) throw new Error(`${urls.length} process(es), c=${connections}: ${bad} failed requests`);
    rows.push({
      processes: urls.length,
      concurrency: connections,
      'req/s (sum)': parts.reduce((n, r) => n + r.requests.average, 0).toFixed(0),
      requests: parts.reduce((n, r) => n + r.requests.total, 0),
      'p50 latency': `${Math.max(...parts.map((r) => r.latency.p50))} ms`,
      'p99 latency': `${Math.max(...parts.map((r) => r.latency.p99))} ms`,
    });
  };
  for (const c of CONCURRENCY) await measure([first], c);
  const second = await startServer();
  await post(`${second}${path}`, 10, headers, body);
  for (const c of CONCURRENCY) await measure([first, second], c);

  console.log(`postgres: fresh database, ${tenantCount} tenants timed after 5 warm-up, ${duration} s per run, log level ${benchLogLevel()}, ${machineLine()}`);
  printTable('tenant creation on Postgres (createTenant: role + schema + tables + master rows)', [
    { tenants: created.n, ...summaryRow(created, { mean: false }), 'target p50 < 100 ms': verdict(created.p50, 100) },
  ]);
  printTable('POST /api/agents/:id/messages through the pipeline (instant fake LLM, memory + cost persisted)', rows);
} finally {
  await Promise.all(children.map(stopServeProcess));
  await llm.close();
  await db.drop();
}
