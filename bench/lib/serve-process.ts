import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OPERATOR_KEY, benchLogLevel } from './setup.js';

/**
 * `agentik serve` in its own process (see `serve-child.ts`) on 127.0.0.1 and a port of its
 * choosing, with the bench operator key and log level, the parent's environment minus its
 * AGENTIK_* settings, and `env` on top. Resolves with the URL it listens on; a server that does
 * not start within 30 s is killed.
 */
export function startServeProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AGENTIK_')) childEnv[name] = value;
  Object.assign(childEnv, {
    ...env,
    AGENTIK_HOST: '127.0.0.1',
    AGENTIK_PORT: '0',
    AGENTIK_LOG_LEVEL: benchLogLevel(),
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
  });
  const child = fork(fileURLToPath(new URL('./serve-child.ts', import.meta.url)), [], {
    env: childEnv,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('server did not start within 30 s'));
    }, 30_000);
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

/** Stops a server process with SIGTERM (SIGKILL after 10 s) and waits for it to exit. */
export async function stopServeProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
