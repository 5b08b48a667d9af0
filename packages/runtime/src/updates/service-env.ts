import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Layout } from './layout.js';

/**
 * Reads a systemd EnvironmentFile: `KEY=VALUE` lines, `#` comments, optional single or double
 * quotes around the value.
 */
export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(file)) return env;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[line.slice(0, eq).trim()] = value;
  }
  return env;
}

/** The service's settings and who it runs as, as the updater needs them. */
export interface ServiceEnv {
  /** The environment to run the release's binary with: the env file over a clean process env. */
  env: NodeJS.ProcessEnv;
  dataDir: string;
  storage: 'sqlite' | 'postgres';
  databaseUrl: string | undefined;
  /** Where `/ready` answers. */
  baseUrl: string;
  /** The owner of the data folder: the service user, whom migrations run as. */
  owner: { uid: number; gid: number };
}

/**
 * The service's environment, from `/etc/agentik-os/agentik.env`. Our own AGENTIK_* variables
 * are dropped: the env file is what the service runs with, and what the migration must see.
 */
export function serviceEnv(layout: Layout, processEnv: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const file = readEnvFile(layout.envFile);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(processEnv)) if (!k.startsWith('AGENTIK_')) env[k] = v;
  Object.assign(env, file);
  const dataDir = path.resolve(file.AGENTIK_DATA_DIR ?? layout.varDir);
  const host = file.AGENTIK_HOST ?? '127.0.0.1';
  const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const stat = existsSync(dataDir) ? statSync(dataDir) : undefined;
  return {
    env,
    dataDir,
    storage: file.AGENTIK_STORAGE === 'postgres' ? 'postgres' : 'sqlite',
    databaseUrl: file.AGENTIK_DATABASE_URL,
    baseUrl: `http://${probeHost.includes(':') ? `[${probeHost}]` : probeHost}:${file.AGENTIK_PORT ?? '3000'}`,
    owner: { uid: stat?.uid ?? process.getuid!(), gid: stat?.gid ?? process.getgid!() },
  };
}

export interface RunResult {
  code: number;
  /** The last part of stdout and stderr, for error messages. */
  output: string;
}

/**
 * Runs `command args` and collects its output. As root, `as` switches to the service user (the
 * migration must create files the service can write); otherwise it runs as we are.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; as?: { uid: number; gid: number }; timeoutMs?: number } = {},
): Promise<RunResult> {
  const switchUser = options.as !== undefined && process.getuid!() === 0 && options.as.uid !== 0;
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(switchUser ? { uid: options.as!.uid, gid: options.as!.gid } : {}),
      timeout: options.timeoutMs ?? 600_000,
      killSignal: 'SIGKILL',
    });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolve({ code: 127, output: `${output}${error.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output: output.trim() }));
  });
}
