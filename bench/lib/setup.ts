import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../packages/runtime/src/config/schema.js';
import type { BuildAppOptions, Runtime } from '../../packages/runtime/src/http/app.js';
import { loadRuntime } from './load-runtime.js';

/** The operator key every benchmark runtime starts with (AGENTIK_OPERATOR_KEY). */
export const OPERATOR_KEY = 'agk_bench_operator_key_0123456789abcdefghijklmnop';

export const operatorHeaders = (tenant?: string): Record<string, string> => ({
  authorization: `Bearer ${OPERATOR_KEY}`,
  ...(tenant ? { 'x-tenant-id': tenant } : {}),
});

/**
 * A log destination that drops every line. The runtime still serializes its log lines at the
 * configured level (info unless BENCH_LOG_LEVEL says otherwise), so that cost is measured, but
 * nothing floods the benchmark's table.
 */
export const nullLog: NonNullable<BuildAppOptions['logStream']> = { write: () => {} };

export const benchLogLevel = (): string => process.env.BENCH_LOG_LEVEL ?? 'info';

/** A temp data dir that is removed when the process exits, however it exits. */
export function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-bench-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      remove();
      process.exit(130);
    });
  }
  return dir;
}

export async function benchConfig(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Config> {
  const { loadConfig } = await loadRuntime();
  return loadConfig({
    AGENTIK_DATA_DIR: dataDir,
    AGENTIK_HOST: '127.0.0.1',
    AGENTIK_PORT: '0',
    AGENTIK_LOG_LEVEL: benchLogLevel(),
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    ...env,
  });
}

/** Builds a runtime (not listening) on `dataDir` with the benchmark operator key in place. */
export async function benchRuntime(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Runtime> {
  const { buildApp } = await loadRuntime();
  const runtime = await buildApp({ config: await benchConfig(dataDir, env), logStream: nullLog });
  await runtime.manager.ensureOperatorKey(OPERATOR_KEY);
  return runtime;
}

/** A body for POST /api/agents. */
export function agentBody(name: string): Record<string, unknown> {
  return {
    name,
    description: 'benchmark agent',
    systemPrompt: 'You are a helpful assistant used to measure the runtime.',
    provider: 'ollama',
    model: 'llama3.2:1b',
    temperature: 0.2,
    maxTokens: 512,
  };
}

/**
 * Ends the process if the benchmark runs longer than `minutes`: a benchmark must finish on its
 * own, and a hung one should say so rather than block `pnpm bench`.
 */
export function watchdog(minutes: number): void {
  setTimeout(() => {
    console.error(`benchmark did not finish within ${minutes} min; giving up`);
    process.exit(2);
  }, minutes * 60_000).unref();
}

/** Reads `--name value` / `--name=value` as a positive integer, with a default. */
export function intArg(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let raw: string | undefined;
    if (a === `--${name}`) raw = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) raw = a.slice(name.length + 3);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  }
  return fallback;
}

/**
 * Lets the event loop turn once. `app.inject` completes in microtasks alone (better-sqlite3 is
 * synchronous), so a tight loop of awaited injects never reaches the check phase: every
 * response's setImmediate work piles up and holds the response in memory (about 10 kB each).
 * A real server turns the loop between requests; a benchmark has to do so by hand.
 */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
