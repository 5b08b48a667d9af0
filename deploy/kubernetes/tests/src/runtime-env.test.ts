import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, render, type K8sObject } from './helm.js';
import { repoRoot } from './paths.js';
import { podEnv } from './pod-env.js';

// The commands the chart's pods run (init: `migrate`; runtime: `serve`; helm test:
// `healthcheck --url`), run here as real processes of the built runtime with the environment the
// chart gives them. Only what a pod has of its own is swapped: its volume (a temp dir for
// AGENTIK_DATA_DIR) and its network (a free loopback port instead of 0.0.0.0:3000).
const CLI = path.join(repoRoot, 'packages/runtime/dist/cli/main.js');
const dataDirs: string[] = [];
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the runtime first (pnpm build)`);
});
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The host's environment without any AGENTIK_* variable, plus the pod's. */
function processEnv(pod: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENTIK_') && k !== 'NODE_V8_COVERAGE') env[k] = v;
  return { ...env, ...pod };
}

function cli(args: string[], pod: Record<string, string>) {
  return spawnSync(process.execPath, [CLI, ...args], { env: processEnv(pod), encoding: 'utf8', timeout: 30_000 });
}

const containers = (objects: K8sObject[]) => {
  const pod = find(objects, 'StatefulSet').spec.template.spec;
  return { migrate: pod.initContainers[0], runtime: pod.containers[0], grace: pod.terminationGracePeriodSeconds as number };
};

describe('the runtime with the chart’s environment', () => {
  it('SQLite defaults: migrate, serve (probes answer, the operator key is where NOTES says), helm test, drain within the grace period', async () => {
    const objects = render();
    const { migrate, runtime, grace } = containers(objects);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agentik-helm-pod-'));
    dataDirs.push(dataDir);
    const port = await freePort();
    const local = { AGENTIK_DATA_DIR: dataDir, AGENTIK_HOST: '127.0.0.1', AGENTIK_PORT: String(port) };

    const migrated = cli(migrate.args, { ...podEnv(objects, migrate), ...local });
    expect(migrated.stderr).toBe('');
    expect(migrated.status).toBe(0);

    const proc = spawn(process.execPath, [CLI, ...runtime.args], { env: processEnv({ ...podEnv(objects, runtime), ...local }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      while ((await fetch(`${url}/ready`).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`runtime not ready:\n${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const probe of [runtime.startupProbe, runtime.livenessProbe, runtime.readinessProbe]) {
        expect((await fetch(`${url}${probe.httpGet.path}`)).status, probe.httpGet.path).toBe(200);
      }
      // NOTES.txt: `kubectl logs ... | grep -A1 'Operator key'`; the key is on the next line.
      const lines = stdout.split('\n');
      const at = lines.findIndex((l) => l.includes('Operator key'));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at + 1]!.trim()).toMatch(/^[!-~]{32,}$/);

      // helm test: the test pod's arguments, with the Service address swapped for the port.
      const testArgs = find(objects, 'Pod').spec.containers[0].args.map((a: string) => (a.startsWith('http://') ? url : a));
      const healthcheck = cli(testArgs, {});
      expect(healthcheck.stdout).toMatch(/^200 /);
      expect(healthcheck.status).toBe(0);

      const started = Date.now();
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(grace * 1000);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('Postgres with the chart’s Secret and the operator’s database Secret: a configuration the runtime accepts', async () => {
    const objects = render({
      set: {
        'runtime.storage': 'postgres',
        'runtime.replicas': 3,
        'postgres.existingSecret': 'agentik-db',
        'secrets.operatorKey': 'op-' + 'k'.repeat(40),
        'secrets.encryptionKey': 'ab'.repeat(32),
        'redis.url': 'redis://127.0.0.1:6379/0',
      },
    });
    const env = podEnv(objects, containers(objects).runtime, { 'agentik-db': { 'database-url': 'postgres://agentik:secret@127.0.0.1:5432/agentik' } });
    expect(Object.keys(env).sort()).toEqual(
      [
        'AGENTIK_HOST', 'AGENTIK_PORT', 'AGENTIK_DATA_DIR', 'AGENTIK_STORAGE', 'AGENTIK_LOG_LEVEL', 'AGENTIK_SHUTDOWN_TIMEOUT_MS',
        'AGENTIK_DATABASE_URL', 'AGENTIK_OPERATOR_KEY', 'AGENTIK_ENCRYPTION_KEY', 'AGENTIK_REDIS_URL',
      ].sort(),
    );
    // `healthcheck` parses the whole configuration first: exit 78 and the problems for a bad
    // one, otherwise 1 here ("not ready": nothing listens on that port).
    const closed = `http://127.0.0.1:${await freePort()}`;
    const accepted = cli(['healthcheck', '--url', closed], env);
    expect(accepted.stderr).toMatch(/^not ready/);
    expect(accepted.status).toBe(1);
    // What service links would add (hence enableServiceLinks: false): the runtime refuses it.
    const linked = cli(['healthcheck', '--url', closed], { ...env, AGENTIK_AGENTIK_OS_RUNTIME_PORT: 'tcp://10.0.0.1:3000' });
    expect(linked.stderr).toContain('AGENTIK_AGENTIK_OS_RUNTIME_PORT: unknown setting');
    expect(linked.status).toBe(78);
  });
});
