/**
 * The message pipeline against an instant fake LLM, and what the runtime adds to it. Three
 * processes: the fake LLM (`lib/fake-llm-child.ts`, Ollama wire protocol), `agentik serve`
 * (`lib/serve-child.ts`, log level warn unless BENCH_LOG_LEVEL says otherwise) and this one, the
 * load generator. In one run it measures, at concurrency 1, 10 and 50 (autocannon, `--duration`
 * seconds each, after a warm-up):
 *   (a) the fake LLM directly: `POST /api/chat`, non-streaming, with the very body the runtime
 *       sends (checked against what the fake received from the runtime);
 *   (b) the runtime, non-streaming: `POST /api/agents/:id/messages` -> JSON;
 *   (c) the runtime, streaming: the same with `Accept: text/event-stream` (delta events, done).
 * For each run it also prints the CPU time per request of the runtime, the fake and the load
 * generator (from /proc): the three share the machine's two cores, so req/s alone hides where the
 * time went, and CPU per request varies far less from run to run than req/s does.
 * Every message starts a new conversation (no conversationId), so the context stays one system
 * prompt plus one user turn and every request writes a conversation, two messages and a cost event.
 * Then, at concurrency 1 with a keep-alive node:http client and sub-millisecond timing, it
 * alternates one direct call and one runtime call for `--duration` seconds, non-streaming (whole
 * response) and streaming (time to first body byte: the fake's first NDJSON line directly, the
 * first SSE `delta` through the runtime), and prints the added latency and the added time to
 * first byte. Finally it checks through `GET /api/costs/summary` that every request answered
 * was persisted. Each section uses its own enterprise tenant (60,000 requests/min), so the
 * sliding-window rate limit is never reached.
 *
 * With `--profile`, it instead runs the runtime under `node --cpu-prof`, drives the
 * concurrency-10 (`--concurrency`) non-streaming (with `--sse`: streaming) load for `--duration` seconds and prints where the runtime's CPU
 * time went (self time by function and by package/file); `--profile-out <file>` keeps the
 * `.cpuprofile` (open it in Chrome DevTools or speedscope).
 *
 *   node --import tsx bench/pipeline.ts [--duration 5] [--quick] [--profile [--sse] [--concurrency 10] [--profile-out runtime.cpuprofile]]
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PersistedCount, callHttp, checkLoad, createTenant, load, timedClient, type BenchTenant, type LoadResult, type Target } from './lib/clients.js';
import { readProfile } from './lib/profile.js';
import { forkListening, startServeProcess, stopServeProcess } from './lib/serve-process.js';
import { agentBody, intArg, tempDataDir, watchdog } from './lib/setup.js';
import { cpuMeter, machineLine, ms, printTable, summarize } from './lib/stats.js';

watchdog(5);
const duration = intArg('duration', 5);
const PROFILE = process.argv.includes('--profile');
/** `--quick`: (a), (b) and (c) at concurrency 10 only, and only the JSON timing at concurrency 1, for iterating. */
const QUICK = process.argv.includes('--quick');
/** `--profile --concurrency N`: the concurrency of the profiled load (default 10). */
const PROFILE_CONCURRENCY = intArg('concurrency', 10);
/** `--profile --sse`: profile the streaming route instead of the JSON one. */
const PROFILE_SSE = process.argv.includes('--sse');
const CONCURRENCY = QUICK ? [10] : [1, 10, 50];
const profileOut = (() => {
  const i = process.argv.indexOf('--profile-out');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const CONTENT = 'What is the capital of France?';
const TARGET = { addedP50Ms: 1, rpsAt10: 2000, addedTtfbMs: 2 };

const load1 = () => os.loadavg()[0]!.toFixed(2);

// ---------------------------------------------------------------------------------------------
// Child processes

/** The body of the fake's most recent chat request (asked over IPC). */
function lastLlmBody(fake: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string; body?: unknown }) => {
      if (m.type !== 'last') return;
      fake.off('message', onMessage);
      resolve(m.body);
    };
    fake.on('message', onMessage);
    fake.send({ type: 'last' });
  });
}

// ---------------------------------------------------------------------------------------------
// Setup

const dataDir = tempDataDir();
const fake = await forkListening('./fake-llm-child.ts', { ...process.env });
const llmUrl = fake.message.url!;
const runtime = await startServeProcess(
  { AGENTIK_DATA_DIR: dataDir, AGENTIK_OLLAMA_URL: llmUrl },
  { logLevel: LOG_LEVEL, execArgv: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(dataDir, 'profile')] : [] },
);
const url = runtime.url;

const agent = agentBody('bench');
/** What the runtime sends to Ollama for one new-conversation message (checked below). */
const directBody = (stream: boolean) => ({
  model: agent.model,
  messages: [
    { role: 'system', content: agent.systemPrompt },
    { role: 'user', content: CONTENT },
  ],
  stream,
  options: { temperature: agent.temperature, num_predict: agent.maxTokens },
});
const direct = (stream: boolean): Target => ({ url: `${llmUrl}/api/chat`, headers: {}, body: directBody(stream) });
const viaRuntime = (t: BenchTenant, stream: boolean): Target => ({
  url: `${url}/api/agents/${t.agentId}/messages`,
  headers: { ...t.headers, ...(stream ? { accept: 'text/event-stream' } : {}) },
  body: { content: CONTENT },
});

/** Answered (2xx) and sent runtime requests per tenant, for the persistence check. */
const persistence = new PersistedCount();
const count = (t: BenchTenant, answered: number, sent: number) => persistence.count(t, answered, sent);

async function loadRuntime(label: string, t: BenchTenant, stream: boolean, connections: number, seconds: number) {
  const r = await load(viaRuntime(t, stream), connections, seconds);
  count(t, r['2xx'], r.requests.sent);
  checkLoad(label, r);
  return r;
}

try {
  if (PROFILE) await profileRun();
  else await fullRun();
} finally {
  await stopServeProcess(runtime.child);
  await stopServeProcess(fake.child);
}

// ---------------------------------------------------------------------------------------------
// The full run

async function fullRun(): Promise<void> {
  const tJson = await createTenant(url, 'Pipeline JSON');
  const tSse = await createTenant(url, 'Pipeline SSE');
  const tTimed = await createTenant(url, 'Pipeline timed');

  // The direct body is the one the runtime sends, and both forms of the route answer.
  const reply = (await callHttp(viaRuntime(tJson, false).url, 'POST', tJson.headers, { content: CONTENT })).json();
  count(tJson, 1, 1);
  if (!reply.conversationId || !(reply.message as { content?: string }).content) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  const sent = await lastLlmBody(fake.child);
  if (JSON.stringify(sent) !== JSON.stringify(directBody(false))) {
    throw new Error(`the runtime sent ${JSON.stringify(sent)}, the direct runs send ${JSON.stringify(directBody(false))}`);
  }
  const sse = await callHttp(viaRuntime(tSse, true).url, 'POST', { ...tSse.headers, accept: 'text/event-stream' }, { content: CONTENT });
  count(tSse, 1, 1);
  if (!sse.text.includes('event: delta') || !sse.text.includes('event: done')) throw new Error(`unexpected SSE body ${sse.text}`);
  const directStream = await callHttp(direct(true).url, 'POST', {}, directBody(true));
  const ndjsonLines = directStream.text.trim().split('\n').length;

  // Warm-up: JIT, the tenant stores, the upstream connection pool.
  await load(direct(false), 10, 1);
  await loadRuntime('warm-up json', tJson, false, 10, 2);
  await loadRuntime('warm-up sse', tSse, true, 10, 2);

  // (a), (b), (c) at each concurrency, side by side so that they see the same machine.
  const rows: Array<Record<string, string | number>> = [];
  const rps = new Map<string, number>();
  for (const c of CONCURRENCY) {
    const runs: Array<[string, () => Promise<LoadResult>]> = [
      ['(a) fake LLM directly', () => load(direct(false), c, duration).then((r) => (checkLoad('direct', r), r))],
      ['(b) runtime, JSON', () => loadRuntime(`json c=${c}`, tJson, false, c, duration)],
      ['(c) runtime, SSE', () => loadRuntime(`sse c=${c}`, tSse, true, c, duration)],
    ];
    for (const [label, run] of runs) {
      const cpu = cpuMeter({ runtime: runtime.child.pid, fake: fake.child.pid });
      const r = await run();
      const { runtime: runtimeCpu, fake: fakeCpu, self: loadCpu } = cpu.perRequest(r.requests.total);
      rps.set(`${label} ${c}`, r.requests.average);
      rows.push({
        target: label,
        concurrency: c,
        'req/s': r.requests.average.toFixed(0),
        requests: r.requests.total,
        p50: `${r.latency.p50} ms`,
        p99: `${r.latency.p99} ms`,
        max: `${r.latency.max} ms`,
        // CPU time per request of each process over the run (/proc, 10 ms resolution).
        'CPU/req: runtime': label.startsWith('(a)') ? '-' : ms(runtimeCpu, 3),
        'fake LLM': ms(fakeCpu, 3),
        'load generator': ms(loadCpu, 3),
        'load avg (1 min)': load1(),
      });
    }
  }

  // Sub-millisecond timing at concurrency 1: one direct call, one runtime call, alternating.
  const client = timedClient(url);
  const llmClient = timedClient(llmUrl);
  const timed = async (stream: boolean) => {
    const d: { ttfb: number[]; total: number[] } = { ttfb: [], total: [] };
    const r: { ttfb: number[]; total: number[] } = { ttfb: [], total: [] };
    const target = viaRuntime(tTimed, stream);
    for (let i = 0; i < 200; i++) {
      await llmClient.post(direct(stream));
      const res = await client.post(target);
      count(tTimed, res.status === 200 ? 1 : 0, 1);
    }
    const until = performance.now() + duration * 1000;
    while (performance.now() < until) {
      const a = await llmClient.post(direct(stream));
      const b = await client.post(target);
      count(tTimed, b.status === 200 ? 1 : 0, 1);
      if (a.status !== 200 || b.status !== 200) throw new Error(`timed run: ${a.status} / ${b.status} ${b.body.slice(0, 200)}`);
      if (stream && !b.body.includes('event: done')) throw new Error(`timed run: no done event in ${b.body.slice(0, 200)}`);
      d.ttfb.push(a.ttfb);
      d.total.push(a.total);
      r.ttfb.push(b.ttfb);
      r.total.push(b.total);
    }
    return { d: { ttfb: summarize(d.ttfb), total: summarize(d.total) }, r: { ttfb: summarize(r.ttfb), total: summarize(r.total) }, load: load1() };
  };
  const json1 = await timed(false);
  const sse1 = QUICK ? json1 : await timed(true);
  client.close();
  llmClient.close();

  // Every answered request was persisted: one cost event each (written in the same transaction
  // as the conversation and its two messages).
  const { ok: allPersisted, rows: persisted } = await persistence.check(url, [
    ['JSON (b)', tJson],
    ['SSE (c)', tSse],
    ['timed c=1', tTimed],
  ]);

  // Report.
  console.log(
    `pipeline: POST /api/agents/:id/messages vs the instant fake LLM (Ollama /api/chat) directly; new conversation per ` +
      `request (no conversationId); enterprise tenants; runtime log level ${LOG_LEVEL}; ${duration} s per run; ${machineLine()}`,
  );
  printTable('requests/s and latency (autocannon, same machine; its latencies have 1 ms resolution)', rows);
  printTable(`concurrency 1, alternating direct/runtime for ${duration} s each (node:http keep-alive client, performance.now())`, [
    { measure: 'JSON: whole response', direct: ms(json1.d.total.p50, 3), runtime: ms(json1.r.total.p50, 3), 'added p50': ms(json1.r.total.p50 - json1.d.total.p50, 3), 'direct p99': ms(json1.d.total.p99, 3), 'runtime p99': ms(json1.r.total.p99, 3), n: json1.r.total.n, 'load avg': json1.load },
    { measure: 'SSE/NDJSON: whole response', direct: ms(sse1.d.total.p50, 3), runtime: ms(sse1.r.total.p50, 3), 'added p50': ms(sse1.r.total.p50 - sse1.d.total.p50, 3), 'direct p99': ms(sse1.d.total.p99, 3), 'runtime p99': ms(sse1.r.total.p99, 3), n: sse1.r.total.n, 'load avg': sse1.load },
    { measure: 'SSE/NDJSON: first byte', direct: ms(sse1.d.ttfb.p50, 3), runtime: ms(sse1.r.ttfb.p50, 3), 'added p50': ms(sse1.r.ttfb.p50 - sse1.d.ttfb.p50, 3), 'direct p99': ms(sse1.d.ttfb.p99, 3), 'runtime p99': ms(sse1.r.ttfb.p99, 3), n: sse1.r.ttfb.n, 'load avg': sse1.load },
  ]);
  console.log(`(the fake streams ${ndjsonLines} NDJSON lines in one write; direct first byte = its first line, runtime first byte = the first SSE delta)`);
  printTable('persisted (GET /api/costs/summary per tenant, after the run)', persisted);

  const addedP50 = json1.r.total.p50 - json1.d.total.p50;
  const addedTtfb = sse1.r.ttfb.p50 - sse1.d.ttfb.p50;
  const rps10 = rps.get('(b) runtime, JSON 10') ?? Number.NaN;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  printTable('targets (this run)', [
    { measure: 'added p50 latency, concurrency 1 (JSON)', value: ms(addedP50, 3), target: `<= ${TARGET.addedP50Ms} ms`, result: mark(addedP50 <= TARGET.addedP50Ms), 'load avg': json1.load },
    { measure: 'requests/s at concurrency 10, memory + cost persisted', value: rps10.toFixed(0), target: `>= ${TARGET.rpsAt10}`, result: mark(rps10 >= TARGET.rpsAt10 && allPersisted), 'load avg': String(rows.find((r) => r.target === '(b) runtime, JSON' && r.concurrency === 10)?.['load avg (1 min)'] ?? '') },
    { measure: 'added time to first byte, concurrency 1 (SSE)', value: ms(addedTtfb, 3), target: `<= ${TARGET.addedTtfbMs} ms`, result: mark(addedTtfb <= TARGET.addedTtfbMs), 'load avg': sse1.load },
  ]);
  if (!allPersisted) {
    process.exitCode = 1;
    console.error('some answered requests have no cost event');
  }
}

// ---------------------------------------------------------------------------------------------
// --profile: where the runtime's CPU time goes under the concurrency-10 JSON load

async function profileRun(): Promise<void> {
  const t = await createTenant(url, 'Pipeline profile');
  await loadRuntime('warm-up', t, PROFILE_SSE, PROFILE_CONCURRENCY, 2);
  // V8 stamps samples with CLOCK_MONOTONIC in µs, as process.hrtime does: only the samples
  // taken while the measured load ran are counted (not startup, setup or warm-up).
  const windowStart = Number(process.hrtime.bigint() / 1000n);
  const r = await loadRuntime(`profile c=${PROFILE_CONCURRENCY}`, t, PROFILE_SSE, PROFILE_CONCURRENCY, duration);
  const windowEnd = Number(process.hrtime.bigint() / 1000n);
  const loadAvg = load1();
  await stopServeProcess(runtime.child);
  const p = readProfile(path.join(dataDir, 'profile'), { start: windowStart, end: windowEnd }, profileOut);
  console.log(
    `pipeline --profile: runtime under node --cpu-prof, samples of the measured window only, ${PROFILE_SSE ? 'SSE' : 'JSON'} route at concurrency ${PROFILE_CONCURRENCY} for ${duration} s: ` +
      `${r.requests.average.toFixed(0)} req/s under the profiler (${r.requests.total} requests, ${(p.busyUs / r.requests.total / 1000).toFixed(2)} ms busy CPU each), p50 ${r.latency.p50} ms; runtime log level ${LOG_LEVEL}; ` +
      `${p.summary}; ${machineLine()} (load avg at end ${loadAvg})`,
  );
  p.print();
}
