import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Role } from '@agentik/shared';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { buildApp, type BuildAppOptions, type Runtime } from '../http/app.js';

export const OPERATOR_KEY = 'agk_test_operator_key_0123456789abcdefghijklmnop';

/** A runtime on a fresh temp data dir, with captured log lines and helpers for common calls. */
export interface TestRuntime extends Runtime {
  config: Config;
  dataDir: string;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  /** Operator-authenticated headers, optionally acting inside a tenant. */
  operator(tenant?: string): Record<string, string>;
  /** Creates a tenant through the API and returns its id and slug. */
  createTenant(body: { name: string; slug?: string; owner?: string; plan?: string }): Promise<{ id: string; slug: string }>;
  /** Issues a key for the tenant through the API and returns the secret. */
  createKey(tenantId: string, role?: Role): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(dataDir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    AGENTIK_DATA_DIR: dataDir,
    AGENTIK_LOG_LEVEL: 'info',
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    ...env,
  });
}

export async function startTestRuntime(
  env: NodeJS.ProcessEnv = {},
  extra: Omit<BuildAppOptions, 'config' | 'logStream'> = {},
): Promise<TestRuntime> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-test-'));
  const config = testConfig(dataDir, env);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const runtime = await buildApp({ config, logStream, ...extra });
  await runtime.manager.ensureOperatorKey(OPERATOR_KEY);
  const operator = (tenant?: string) => ({
    authorization: `Bearer ${OPERATOR_KEY}`,
    ...(tenant ? { 'x-tenant-id': tenant } : {}),
  });
  return {
    ...runtime,
    config,
    dataDir,
    logs,
    operator,
    async createTenant(body) {
      const res = await runtime.app.inject({
        method: 'POST',
        url: '/api/tenants',
        headers: operator(),
        payload: { owner: 'owner@example.com', ...body },
      });
      if (res.statusCode !== 201) throw new Error(`create tenant: ${res.statusCode} ${res.body}`);
      return res.json() as { id: string; slug: string };
    },
    async createKey(tenantId, role = 'owner') {
      const res = await runtime.app.inject({
        method: 'POST',
        url: `/api/tenants/${tenantId}/keys`,
        headers: operator(),
        payload: { role },
      });
      if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
      return (res.json() as { key: string }).key;
    },
    async close() {
      await runtime.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Bearer headers for a tenant key. */
export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}
