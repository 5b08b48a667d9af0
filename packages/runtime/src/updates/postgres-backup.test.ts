import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime } from '../test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { readBackupInfo, restoreFromBackup, takeBackup } from './data-backup.js';
import { layoutFor } from './layout.js';
import { serviceEnv } from './service-env.js';

/** The updater's Postgres backup (pg_dump before migrating) and its restore, on loopback Postgres. */

const KEY = 'a'.repeat(64);
let db: TestDatabase;
let root: string;

beforeAll(async () => {
  db = await createTestDatabase();
  root = mkdtempSync(path.join(tmpdir(), 'agentik-pg-backup-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
});

async function agentNames(env: NodeJS.ProcessEnv, tenant: string): Promise<string[]> {
  const rt = await startTestRuntime(env);
  try {
    const res = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: rt.operator(tenant) });
    return (res.json() as { data: { name: string }[] }).data.map((a) => a.name).sort();
  } finally {
    await rt.app.close();
  }
}

describe('Postgres backup before migrating', () => {
  it('pg_dump of the database, restored with pg_restore: data written after the backup is gone', async () => {
    const env = { AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_ENCRYPTION_KEY: KEY, AGENTIK_LOG_LEVEL: 'silent' };
    const layout = layoutFor(root);
    mkdirSync(layout.etcDir, { recursive: true });
    writeFileSync(layout.envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n'));
    const rt = await startTestRuntime(env);
    let tenant: string;
    try {
      tenant = (await rt.createTenant({ name: 'Acme', slug: 'acme' })).id;
      const key = await rt.createKey(tenant);
      const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'before', systemPrompt: 'x', provider: 'ollama', model: 'm' } });
      expect(res.statusCode).toBe(201);
    } finally {
      await rt.app.close();
    }
    const svc = serviceEnv(layout, process.env);
    const dir = path.join(layout.backupsDir, 'b1');
    // The runtime's login role cannot read the tenant schemas (by design): pg_dump says so.
    await expect(takeBackup(layout, svc, path.join(layout.backupsDir, 'b0'), '1.0.0', '1.0.0', false)).rejects.toThrow(/pg_dump failed .*permission denied for schema t_/);
    const info = await takeBackup(layout, svc, dir, '1.0.0', '1.0.0', false, db.adminUrl);
    expect(info.contents).toEqual(['etc', 'postgres.dump']);
    expect(readBackupInfo(dir)).toEqual(info);

    const again = await startTestRuntime(env);
    try {
      const key = await again.createKey(tenant);
      await again.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'after', systemPrompt: 'x', provider: 'ollama', model: 'm' } });
    } finally {
      await again.app.close();
    }
    expect(await agentNames(env, tenant)).toEqual(['after', 'before']);
    await restoreFromBackup(layout, svc, dir, db.adminUrl);
    expect(await agentNames(env, tenant)).toEqual(['before']);
  });
});
