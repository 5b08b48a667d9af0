import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OPERATOR_KEY, benchLogLevel } from './setup.js';

/** Options for `startServeProcess`. */
export interface ServeProcessOptions {
  /** The server's AGENTIK_LOG_LEVEL; default `benchLogLevel()`. */
  logLevel?: string;
  /** Node flags for the server process, put before `--import tsx` (e.g. `--cpu-prof`). */
  execArgv?: string[];
}

/**
 * Forks a benchmark helper script (`script` resolved against this folder) that sends
 * `{ url, ... }` over IPC once it listens, and resolves with that message. The child is killed
 * if it does not report within 30 s, and when this process exits, however it exits.
 */
export function forkListening(
  script: string,
  env: NodeJS.ProcessEnv,
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; message: Record<string, string> }> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    env,
    execArgv: [...execArgv, '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within 30 s`));
    }, 30_000);
    child.once('message', (message: Record<string, string>) => {
      clearTimeout(timer);
      if (message.url) resolve({ child, message });
      else reject(new Error(`unexpected message from ${script}: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening`));
    });
  });
}

/**
 * `agentik serve` in its own process (see `serve-child.ts`) on 127.0.0.1 and a port of its
 * choosing, with the bench operator key and log level (or `options.logLevel`), the parent's
 * environment minus its AGENTIK_* settings, and `env` on top. Resolves with the URL it listens
 * on; a server that does not start within 30 s is killed.
 */
export async function startServeProcess(env: Record<string, string>, options: ServeProcessOptions = {}): Promise<{ child: ChildProcess; url: string }> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AGENTIK_')) childEnv[name] = value;
  Object.assign(childEnv, {
    ...env,
    AGENTIK_HOST: '127.0.0.1',
    AGENTIK_PORT: '0',
    AGENTIK_LOG_LEVEL: options.logLevel ?? benchLogLevel(),
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
  });
  const { child, message } = await forkListening('./serve-child.ts', childEnv, options.execArgv);
  return { child, url: message.url! };
}

/** Stops a forked process with SIGTERM (SIGKILL after 10 s) and waits for it to exit. */
export async function stopServeProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
