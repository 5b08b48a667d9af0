/**
 * Throughput of `GET /api/agents` for one tenant with 20 agents, through the real HTTP server on
 * 127.0.0.1: `agentik serve` runs in a child process (logging at info to a discarded stdout) and
 * autocannon drives it from this process at concurrency 1, 10 and 50, 5 s each after a 2 s
 * warm-up. Prints requests/s and latency percentiles.
 *
 *   node --import tsx bench/agents-rps.ts [--duration 5] [--agents 20]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { autocannon, type AutocannonResult } from './lib/clients.js';
import { OPERATOR_KEY, agentBody, benchLogLevel, intArg, operatorHeaders, tempDataDir, watchdog } from './lib/setup.js';
import { machineLine, printTable } from './lib/stats.js';

watchdog(5);
const duration = intArg('duration', 5);
const agentCount = intArg('agents', 20);
const CONCURRENCY = [1, 10, 50];

function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AGENTIK_')) env[name] = value;
  Object.assign(env, {
    AGENTIK_DATA_DIR: dataDir,
    AGENTIK_HOST: '127.0.0.1',
    AGENTIK_PORT: '0',
    AGENTIK_LOG_LEVEL: benchLogLevel(),
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
  });
  const child = fork(fileURLToPath(new URL('./lib/serve-child.ts', import.meta.url)), [], {
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
    child.once('message', (message: { url?: string }) => {
      clearTimeout(timer);
      if (message.url) resolve({ child, url: message.url });
      else reject(new Error(`unexpected message from server: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function call(url: string, init: { method: string; headers: Record<string, string>; body?: unknown }) {
  const res = await fetch(url, {
    method: init.method,
    headers: { ...init.headers, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${init.method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const dataDir = tempDataDir();
const { child, url } = await startChild(dataDir);
process.once('exit', () => child.kill('SIGKILL'));
try {
  const tenant = await call(`${url}/api/tenants`, {
    method: 'POST',
    headers: operatorHeaders(),
    body: { name: 'Throughput', owner: 'owner@example.com', plan: 'pro' },
  });
  const { key } = (await call(`${url}/api/tenants/${String(tenant.id)}/keys`, {
    method: 'POST',
    headers: operatorHeaders(),
    body: { role: 'viewer' },
  })) as { key: string };
  for (let i = 0; i < agentCount; i++) {
    await call(`${url}/api/agents`, { method: 'POST', headers: operatorHeaders(String(tenant.id)), body: agentBody(`agent-${i}`) });
  }
  const headers = { authorization: `Bearer ${key}` };
  const list = (await call(`${url}/api/agents`, { method: 'GET', headers })) as { data: unknown[] };
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
  await stopChild(child);
}
