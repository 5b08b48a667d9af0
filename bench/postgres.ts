/**
 * Postgres next to SQLite on the message pipeline, in one run, against the same instant fake LLM
 * (`lib/fake-llm-child.ts`, Ollama wire protocol, its own process). Each backend runs as
 * `agentik serve` in a process of its own (log level warn unless BENCH_LOG_LEVEL says otherwise);
 * Postgres on a fresh database (made and dropped as the tests do: superuser from
 * AGENTIK_TEST_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres). Rate limits are
 * counted in the database (no AGENTIK_REDIS_URL), as in a default install.
 *
 * At concurrency 1, 10 and 50 (autocannon, `--duration` seconds each, after a warm-up), SQLite and
 * Postgres side by side: `POST /api/agents/:id/messages` (new conversation per request, so every
 * request writes a conversation, two messages and a cost event), req/s, p50/p99, the runtime's CPU
 * time per request (from /proc), and for Postgres what the database did per message: the CPU time of
 * its server processes (from /proc, when the server runs on this machine),
 * transactions (`pg_stat_database`), round trips and statements (counted in the runtime's pg
 * driver by `lib/pg-statement-counter.mjs`), and `pg_stat_statements` calls when the server has
 * that module loaded. Then the same Postgres load through two runtime processes on the database
 * (connections split between them). Finally every answered request must have its cost event
 * (`GET /api/costs/summary`), and the tenant-creation time on Postgres.
 *
 *   node --import tsx bench/postgres.ts [--duration 5] [--quick] [--statements] [--tenants 50] [--profile [--profile-out f]]
 *
 * `--quick`: concurrency 10 only. `--statements`: also prints the query texts the Postgres runtime
 * sent per message in the concurrency-10 run. `--profile`: instead runs the Postgres runtime under
 * `node --cpu-prof`, drives the concurrency-10 load for `--duration` seconds and prints where its
 * CPU time went (as `pipeline.ts --profile` does; `--profile-out` keeps the `.cpuprofile`).
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type PgModule from 'pg';
import path from 'node:path';
import { PersistedCount, checkLoad, createTenant, load, type BenchTenant, type LoadResult } from './lib/clients.js';
import { loadRuntime } from './lib/load-runtime.js';
import { readProfile } from './lib/profile.js';
import { forkListening, startServeProcess, stopServeProcess } from './lib/serve-process.js';
import { benchRuntime, intArg, tempDataDir, watchdog } from './lib/setup.js';
import { cpuMeter, machineLine, ms, printTable, processCpuMs, summarize, summaryRow, verdict } from './lib/stats.js';

watchdog(15);
const duration = intArg('duration', 5);
const tenantCount = intArg('tenants', 50);
const QUICK = process.argv.includes('--quick');
const STATEMENTS = process.argv.includes('--statements');
const PROFILE = process.argv.includes('--profile');
const profileOut = (() => {
  const i = process.argv.indexOf('--profile-out');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const CONCURRENCY = QUICK ? [10] : [1, 10, 50];
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const CONTENT = 'What is the capital of France?';
/** The target: Postgres at least half of SQLite's req/s at concurrency 10. */
const TARGET_RATIO = 0.5;
const COUNTER = fileURLToPath(new URL('./lib/pg-statement-counter.mjs', import.meta.url));

// Registers the `@agentik/shared` alias before the test-support module below is linked.
await loadRuntime();
const { createTestDatabase } = await import('../packages/runtime/src/test-support/postgres.js');
/** pg is a dependency of `packages/runtime`, not of the root, so it resolves from there. */
const pg = createRequire(new URL('../packages/runtime/package.json', import.meta.url))('pg') as typeof PgModule;

type Counts = { queries: number; statements: number; texts?: Array<[string, number]> };

/** What the counter in a Postgres runtime process has seen so far (asked over IPC). */
function driverCounts(child: ChildProcess): Promise<Counts> {
  return new Promise((resolve) => {
    const onMessage = (m: Counts & { type?: string }) => {
      if (m.type !== 'pg-counts') return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send({ type: 'pg-counts' });
  });
}

const db = await createTestDatabase();
const admin = new pg.Client({ connectionString: db.adminUrl });
await admin.connect();
const fake = await forkListening('./fake-llm-child.ts', { ...process.env });
const llmUrl = fake.message.url!;
const pgEnv = { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_ENCRYPTION_KEY: 'ef'.repeat(32), AGENTIK_OLLAMA_URL: llmUrl };
const children: ChildProcess[] = [fake.child];

/** pg_stat_statements, when the server preloads it: the extension is made in the bench database. */
const statStatements = await (async () => {
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await admin.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
    return true;
  } catch {
    return false;
  }
})();

/** Transactions committed + rolled back in the bench database, and pg_stat_statements calls. */
/**
 * CPU time (ms, from /proc) of each server process connected to the bench database, by pid: the
 * database's own share of the machine (only where the server runs on this machine).
 */
async function backendCpu(): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}

/** CPU the backends used between two `backendCpu` readings (a backend that started in between counts from 0). */
function backendCpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}

async function databaseCounts(): Promise<{ xacts: number; calls: number }> {
  // Backends report their statistics at most once a second, when idle.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ xacts: string }>('SELECT xact_commit + xact_rollback AS xacts FROM pg_stat_database WHERE datname = $1', [db.name]);
  let calls = Number.NaN;
  if (statStatements) {
    const r = await admin.query<{ calls: string | null }>(
      'SELECT sum(calls) AS calls FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND r.rolname <> current_user',
      [db.name],
    );
    calls = Number(r.rows[0]?.calls ?? 0);
  }
  return { xacts: Number(rows[0]?.xacts ?? 0), calls };
}

/** A runtime process under load: its URL and process, and whether it counts its Postgres queries. */
interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  postgres: boolean;
}

async function startServer(name: string, postgres: boolean, execArgv: string[] = []): Promise<Server> {
  const env = postgres ? { ...pgEnv, AGENTIK_DATA_DIR: tempDataDir(), ...(STATEMENTS ? { BENCH_PG_STATEMENTS: '1' } : {}) } : { AGENTIK_DATA_DIR: tempDataDir(), AGENTIK_OLLAMA_URL: llmUrl };
  const { child, url } = await startServeProcess(env, { logLevel: LOG_LEVEL, execArgv: [...execArgv, ...(postgres ? ['--import', COUNTER] : [])] });
  children.push(child);
  return { name, url, child, postgres };
}

/** `--profile`: where the Postgres runtime's CPU time goes under the concurrency-10 load. */
async function profileRun(): Promise<void> {
  const dir = tempDataDir();
  const server = await startServer('postgres', true, ['--cpu-prof', '--cpu-prof-dir', path.join(dir, 'profile')]);
  const t = await createTenant(server.url, 'Postgres profile');
  await measure([server], t, 10, 2);
  const windowStart = Number(process.hrtime.bigint() / 1000n);
  const m = await measure([server], t, 10, duration);
  const windowEnd = Number(process.hrtime.bigint() / 1000n);
  await stopServeProcess(server.child);
  const p = readProfile(path.join(dir, 'profile'), { start: windowStart, end: windowEnd }, profileOut);
  console.log(
    `postgres --profile: runtime under node --cpu-prof, concurrency 10 for ${duration} s: ${m.rps.toFixed(0)} req/s under the profiler, ` +
      `${(p.busyUs / m.total / 1000).toFixed(2)} ms busy CPU per request; ${p.summary}; ${machineLine()}`,
  );
  p.print();
}

const persistence = new PersistedCount();
const target = (s: Server, t: BenchTenant) => ({ url: `${s.url}/api/agents/${t.agentId}/messages`, headers: t.headers, body: { content: CONTENT } });

/** Load through `servers` (connections split between them), with CPU and database counts per request. */
async function measure(servers: Server[], t: BenchTenant, connections: number, seconds: number) {
  const pgServers = servers.filter((s) => s.postgres);
  const before = pgServers.length > 0 ? { db: await databaseCounts(), driver: await Promise.all(pgServers.map((s) => driverCounts(s.child))), cpu: await backendCpu() } : undefined;
  const cpu = cpuMeter(Object.fromEntries(servers.map((s, i) => [String(i), s.child.pid])) as Record<string, number | undefined>);
  const fakeCpu = cpuMeter({ fake: fake.child.pid });
  const parts = await Promise.all(servers.map((s) => load(target(s, t), Math.max(1, Math.round(connections / servers.length)), seconds)));
  const total = parts.reduce((n, r) => n + r.requests.total, 0);
  const perReq = cpu.perRequest(total);
  const fakePerReq = fakeCpu.perRequest(total);
  for (const r of parts) {
    persistence.count(t, r['2xx'], r.requests.sent);
    checkLoad(`${servers.map((s) => s.name).join('+')} c=${connections}`, r);
  }
  const sent = parts.reduce((n, r) => n + r.requests.sent, 0);
  let database: { xacts: number; queries: number; statements: number; calls: number; cpu: number; texts: Array<[string, number]> } | undefined;
  if (before) {
    const cpuUsed = backendCpuUsed(before.cpu, await backendCpu());
    const afterDb = await databaseCounts();
    const afterDriver = await Promise.all(pgServers.map((s) => driverCounts(s.child)));
    const texts = new Map<string, number>();
    afterDriver.forEach((a, i) => {
      const b = new Map(before.driver[i]!.texts ?? []);
      for (const [text, n] of a.texts ?? []) texts.set(text, (texts.get(text) ?? 0) + n - (b.get(text) ?? 0));
    });
    database = {
      xacts: afterDb.xacts - before.db.xacts,
      cpu: cpuUsed / total,
      calls: afterDb.calls - before.db.calls,
      queries: afterDriver.reduce((n, a, i) => n + a.queries - before.driver[i]!.queries, 0),
      statements: afterDriver.reduce((n, a, i) => n + a.statements - before.driver[i]!.statements, 0),
      texts: [...texts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]),
    };
  }
  const runtimeCpu = servers.reduce((sum, _, i) => sum + (perReq[String(i)] ?? Number.NaN), 0);
  return {
    rps: parts.reduce((n, r) => n + r.requests.average, 0),
    total,
    sent,
    p50: Math.max(...parts.map((r: LoadResult) => r.latency.p50)),
    p99: Math.max(...parts.map((r: LoadResult) => r.latency.p99)),
    runtimeCpu,
    fakeCpu: fakePerReq.fake ?? Number.NaN,
    loadCpu: perReq.self ?? Number.NaN,
    database,
  };
}

type Measured = Awaited<ReturnType<typeof measure>>;
const per = (n: number | undefined, m: Measured) => (n === undefined || !Number.isFinite(n) ? '-' : (n / m.sent).toFixed(2));

function row(label: string, processes: number, c: number, m: Measured): Record<string, string | number> {
  return {
    backend: label,
    processes,
    concurrency: c,
    'req/s': m.rps.toFixed(0),
    requests: m.total,
    p50: `${m.p50} ms`,
    p99: `${m.p99} ms`,
    'CPU/req: runtime': ms(m.runtimeCpu, 3),
    'fake LLM': ms(m.fakeCpu, 3),
    'load gen': ms(m.loadCpu, 3),
    'Postgres backends': m.database ? ms(m.database.cpu, 3) : '-',
    // Per request sent (autocannon's last in-flight requests are completed by the server too).
    'xacts/msg': per(m.database?.xacts, m),
    'round trips/msg': per(m.database?.queries, m),
    'statements/msg': per(m.database?.statements, m),
    'pg_stat_statements calls/msg': statStatements ? per(m.database?.calls, m) : '-',
  };
}

try {
  if (PROFILE) await profileRun();
  else await fullRun();
} finally {
  await Promise.all(children.map(stopServeProcess));
  await admin.end();
  await db.drop();
}

async function fullRun(): Promise<void> {
  // Tenant creation on Postgres, in process, before any server runs.
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

  const sqlite = await startServer('sqlite', false);
  const pg1 = await startServer('postgres', true);
  // One enterprise tenant (60,000 requests/min) per backend and concurrency, so that the
  // sliding-window rate limit is never reached.
  const tenantsOf = async (s: Server, label: string) => {
    const tenants = new Map<number, BenchTenant>();
    for (const c of CONCURRENCY) tenants.set(c, await createTenant(s.url, `${label} c=${c}`));
    return tenants;
  };
  const sqliteTenants = await tenantsOf(sqlite, 'SQLite');
  const pgTenants = await tenantsOf(pg1, 'Postgres');
  const warm = await createTenant(pg1.url, 'Postgres warm-up');
  const warmSqlite = await createTenant(sqlite.url, 'SQLite warm-up');
  await measure([sqlite], warmSqlite, 10, 2);
  await measure([pg1], warm, 10, 2);

  const rows: Array<Record<string, string | number>> = [];
  const ratios: Array<Record<string, string | number>> = [];
  let statementTexts: Measured['database'];
  let ratioAt10 = Number.NaN;
  for (const c of CONCURRENCY) {
    const s = await measure([sqlite], sqliteTenants.get(c)!, c, duration);
    const p = await measure([pg1], pgTenants.get(c)!, c, duration);
    rows.push(row('SQLite', 1, c, s), row('Postgres', 1, c, p));
    const ratio = p.rps / s.rps;
    if (c === 10) {
      ratioAt10 = ratio;
      statementTexts = p.database;
    }
    ratios.push({ concurrency: c, 'SQLite req/s': s.rps.toFixed(0), 'Postgres req/s': p.rps.toFixed(0), 'Postgres / SQLite': ratio.toFixed(2), 'CPU/req Postgres / SQLite': (p.runtimeCpu / s.runtimeCpu).toFixed(2) });
  }

  // A second runtime process on the same database; the load is split between the two.
  const pg2 = await startServer('postgres-2', true);
  await measure([pg2], warm, 10, 2);
  const scaleRows: Array<Record<string, string | number>> = [];
  const twoTenants: Array<[string, BenchTenant]> = [];
  for (const c of CONCURRENCY.filter((n) => n > 1)) {
    const t = await createTenant(pg1.url, `Postgres 2 processes c=${c}`);
    twoTenants.push([`Postgres, 2 processes, c=${c}`, t]);
    const two = await measure([pg1, pg2], t, c, duration);
    const one = rows.find((r) => r.backend === 'Postgres' && r.concurrency === c)!;
    scaleRows.push({ ...row('Postgres', 2, c, two), '1 process req/s': one['req/s']! });
  }

  const { ok: allPersisted, rows: persisted } = await persistence.check(sqlite.url, CONCURRENCY.map((c) => [`SQLite c=${c}`, sqliteTenants.get(c)!] as const));
  const pgCheck = await persistence.check(pg1.url, [...CONCURRENCY.map((c) => [`Postgres c=${c}`, pgTenants.get(c)!] as const), ...twoTenants]);

  console.log(
    `postgres: POST /api/agents/:id/messages, SQLite and Postgres (fresh database, rate limits in the database) vs the same instant fake LLM; ` +
      `new conversation per request; enterprise tenants; runtime log level ${LOG_LEVEL}; ${duration} s per run; ` +
      `pg_stat_statements ${statStatements ? 'loaded' : 'not loaded (round trips counted in the driver)'}; ${machineLine()}`,
  );
  printTable('requests/s, latency (autocannon, 1 ms resolution), CPU per request, and what Postgres did per message sent', rows);
  printTable('Postgres relative to SQLite (same run)', ratios);
  printTable('two runtime processes on the same Postgres database (connections split between them; CPU is both processes)', scaleRows);
  if (STATEMENTS && statementTexts) {
    printTable(
      'Postgres, concurrency 10: queries sent per message (driver)',
      statementTexts.texts.slice(0, 25).map(([text, n]) => ({ 'per msg': (n / (rows.find((r) => r.backend === 'Postgres' && r.concurrency === 10)?.requests as number)).toFixed(2), query: text })),
    );
  }
  printTable('persisted (GET /api/costs/summary per tenant, after the runs)', [...persisted, ...pgCheck.rows]);
  printTable('tenant creation on Postgres (createTenant: role + schema + tables + master rows)', [
    { tenants: created.n, ...summaryRow(created, { mean: false }), 'target p50 < 100 ms': verdict(created.p50, 100) },
  ]);
  const met = ratioAt10 >= TARGET_RATIO && allPersisted && pgCheck.ok;
  printTable('target (this run)', [
    { measure: 'Postgres req/s / SQLite req/s at concurrency 10, every answered message persisted', value: ratioAt10.toFixed(2), target: `>= ${TARGET_RATIO}`, result: met ? 'met' : 'MISSED' },
  ]);
  if (!allPersisted || !pgCheck.ok) {
    process.exitCode = 1;
    console.error('some answered requests have no cost event');
  }
}
