/**
 * Throughput of `GET /api/agents` for one tenant with 20 agents, through the real HTTP server on
 * 127.0.0.1: `agentik serve` runs in a child process (logging at info to a discarded stdout) and
 * autocannon drives it from this process at concurrency 1, 10 and 50, 5 s each after a 2 s
 * warm-up. Prints requests/s and latency percentiles.
 *
 *   node --import tsx bench/agents-rps.ts [--duration 5] [--agents 20]
 */
import { autocannon, callJson, type AutocannonResult } from './lib/clients.js';
import { startServeProcess, stopServeProcess } from './lib/serve-process.js';
import { agentBody, benchLogLevel, intArg, operatorHeaders, tempDataDir, watchdog } from './lib/setup.js';
import { machineLine, printTable } from './lib/stats.js';

watchdog(5);
const duration = intArg('duration', 5);
const agentCount = intArg('agents', 20);
const CONCURRENCY = [1, 10, 50];

const dataDir = tempDataDir();
const { child, url } = await startServeProcess({ AGENTIK_DATA_DIR: dataDir });
process.once('exit', () => child.kill('SIGKILL'));
try {
  const tenant = await callJson(`${url}/api/tenants`, 'POST', operatorHeaders(), { name: 'Throughput', owner: 'owner@example.com', plan: 'pro' });
  const { key } = (await callJson(`${url}/api/tenants/${String(tenant.id)}/keys`, 'POST', operatorHeaders(), { role: 'viewer' })) as { key: string };
  for (let i = 0; i < agentCount; i++) {
    await callJson(`${url}/api/agents`, 'POST', operatorHeaders(String(tenant.id)), agentBody(`agent-${i}`));
  }
  const headers = { authorization: `Bearer ${key}` };
  const list = (await callJson(`${url}/api/agents`, 'GET', headers)) as { data: unknown[] };
  if (list.data.length !== agentCount) throw new Error(`expected ${agentCount} agents, got ${list.data.length}`);
  const bodyBytes = JSON.stringify(list).length;

  const target = { url: `${url}/api/agents`, headers };
  await autocannon({ ...target, connections: 10, duration: 2 });
  const results: Array<{ connections: number; r: AutocannonResult }> = [];
  for (const connections of CONCURRENCY) {
    const r = await autocannon({ ...target, connections, duration });
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
      throw new Error(`c=${connections}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    }
    results.push({ connections, r });
  }

  console.log(
    `agents-rps: GET /api/agents, ${agentCount} agents (${bodyBytes} B body), viewer key, server log level ` +
      `${benchLogLevel()}, ${duration} s per run, ${machineLine()}`,
  );
  printTable('GET /api/agents through the HTTP server (autocannon, same machine)', results.map(({ connections, r }) => ({
    concurrency: connections,
    'req/s (mean)': r.requests.average.toFixed(0),
    requests: r.requests.total,
    'p50 latency': `${r.latency.p50} ms`,
    'p90 latency': `${r.latency.p90} ms`,
    'p99 latency': `${r.latency.p99} ms`,
    'max latency': `${r.latency.max} ms`,
  })));
} finally {
  await stopServeProcess(child);
}
