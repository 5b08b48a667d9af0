import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real `agentik serve` in a child process, for tests that need a process of their own
 * (signals, crashes, several replicas, what it prints). It runs from the repository root through
 * tsx, so no build is needed.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = path.join('packages', 'runtime', 'src', 'cli', 'main.ts');

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeChild {
  proc: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far, chunk by chunk. */
  output: string[];
  exited: Promise<ServeExit>;
}

/** Children started and not yet exited, for `killServeChildren`. */
const live = new Set<ChildProcess>();

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The parent's environment without any AGENTIK_* setting (unknown ones are fatal), plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AGENTIK_') && k !== 'NODE_V8_COVERAGE') env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Starts `agentik serve` on a free port with `env` (AGENTIK_PORT is set here) and resolves once
 * `/ready` answers 200. A child that exits first, or is not ready in time, is killed and the
 * error carries its output. `onSpawn` sees the child as soon as it is started (to keep the order
 * of starts when several start at once).
 */
export async function spawnServe(
  env: Record<string, string>,
  {
    name = 'server',
    readyTimeoutMs = 25_000,
    pollMs = 50,
    onSpawn,
  }: { name?: string; readyTimeoutMs?: number; pollMs?: number; onSpawn?: (child: ServeChild) => void } = {},
): Promise<ServeChild> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    cwd: REPO_ROOT,
    env: childEnv({ ...env, AGENTIK_PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const output: string[] = [];
  proc.stdout!.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  let gone = false;
  const exited = new Promise<ServeExit>((resolve) =>
    proc.once('exit', (code, signal) => {
      gone = true;
      live.delete(proc);
      resolve({ code, signal });
    }),
  );
  const child: ServeChild = { proc, url: `http://127.0.0.1:${port}`, output, exited };
  onSpawn?.(child);
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (gone) throw new Error(`${name} exited before it was ready:\n${output.join('')}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} not ready after ${readyTimeoutMs / 1000} s:\n${output.join('')}`);
    }
    const status = await fetch(`${child.url}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return child;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Stops a child with SIGTERM, and SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopServe(child: ServeChild, graceMs = 10_000): Promise<ServeExit> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGTERM');
    setTimeout(() => child.proc.kill('SIGKILL'), graceMs).unref();
  }
  return child.exited;
}

/** SIGKILLs every child still running (for `afterAll`). */
export function killServeChildren(): void {
  for (const proc of live) proc.kill('SIGKILL');
}
