import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/commands.js';
import type { CliIo } from '../cli/io.js';
import { bearer, OPERATOR_KEY, startTestRuntime, testConfig, type TestRuntime } from '../test-support/harness.js';
import { backupData, restoreBackup } from './backup-data.js';
import { BACKUP_MANIFEST, BackupError, verifyBackup, type BackupManifest } from './sqlite-backup.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-backup-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function agentNames(rt: TestRuntime, key: string): Promise<string[]> {
  const res = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) });
  expect(res.statusCode).toBe(200);
  return (res.json() as { data: { name: string }[] }).data.map((a) => a.name).sort();
}

async function createAgent(rt: TestRuntime, key: string, name: string): Promise<void> {
  const res = await rt.app.inject({
    method: 'POST',
    url: '/api/agents',
    headers: bearer(key),
    payload: { name, systemPrompt: 'You help.', provider: 'ollama', model: 'llama3.2' },
  });
  expect(res.statusCode).toBe(201);
}

/** A runtime with two tenants, their owner keys and an agent each; one more tenant deleted. */
async function populated(): Promise<{ rt: TestRuntime; keys: Record<'acme' | 'beta', string> }> {
  const rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
  const acme = await rt.createTenant({ name: 'Acme', slug: 'acme' });
  const beta = await rt.createTenant({ name: 'Beta', slug: 'beta' });
  const gone = await rt.createTenant({ name: 'Gone', slug: 'gone' });
  const keys = { acme: await rt.createKey(acme.id), beta: await rt.createKey(beta.id) };
  await createAgent(rt, keys.acme, 'support');
  await createAgent(rt, keys.beta, 'sales');
  const del = await rt.app.inject({ method: 'DELETE', url: `/api/tenants/${gone.id}`, headers: rt.operator() });
  expect(del.statusCode).toBe(204);
  return { rt, keys };
}

/** A backup of {@link populated}'s data; the runtime is closed, and its data dir removed when `removeData`. */
async function backedUp(removeData: boolean): Promise<{ rt: TestRuntime; out: string }> {
  const { rt } = await populated();
  const out = path.join(tempDir(), 'backup');
  try {
    backupData(rt.config, out, 'test');
  } finally {
    await (removeData ? rt.close() : rt.app.close());
  }
  return { rt, out };
}

describe('agentik backup (SQLite)', () => {
  it('copies master.db, every live tenant and the encryption key while the server runs, and restores them', async () => {
    const { rt, keys } = await populated();
    const out = path.join(tempDir(), 'backup');
    let manifest: BackupManifest;
    try {
      manifest = backupData(rt.config, out, 'test');
      // Written after the backup: must not be in it.
      await createAgent(rt, keys.acme, 'after-backup');
      expect(await agentNames(rt, keys.acme)).toEqual(['after-backup', 'support']);
    } finally {
      await rt.app.close();
    }
    expect(manifest.tenants).toBe(2);
    expect(manifest.files.map((f) => f.path).sort()).toEqual(
      ['encryption.key', 'master.db', ...readdirSync(path.join(out, 'tenants')).map((f) => `tenants/${f}`)].sort(),
    );
    expect(readdirSync(path.join(out, 'tenants'))).toHaveLength(2);
    expect(statSync(path.join(out, 'master.db')).mode & 0o777).toBe(0o600);
    expect(verifyBackup(out)).toEqual(manifest);

    const restoredDir = tempDir();
    const config = testConfig(restoredDir, { AGENTIK_LOG_LEVEL: 'silent' });
    const result = restoreBackup(config, out);
    expect(result.setAside).toBeNull();
    expect(readFileSync(path.join(restoredDir, 'encryption.key'), 'utf8')).toBe(readFileSync(path.join(rt.dataDir, 'encryption.key'), 'utf8'));

    const restored = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent', AGENTIK_DATA_DIR: restoredDir });
    try {
      expect(await agentNames(restored, keys.acme)).toEqual(['support']);
      expect(await agentNames(restored, keys.beta)).toEqual(['sales']);
      const tenants = await restored.app.inject({ method: 'GET', url: '/api/tenants', headers: restored.operator() });
      expect((tenants.json() as { data: { slug: string; status: string }[] }).data.map((t) => `${t.slug}:${t.status}`).sort()).toEqual([
        'acme:active',
        'beta:active',
        'gone:deleted',
      ]);
    } finally {
      await restored.app.close();
    }
    rmSync(rt.dataDir, { recursive: true, force: true });
  });

  it('refuses a folder that is not empty, a data dir with no master.db, and Postgres, writing nothing', async () => {
    const { rt } = await populated();
    try {
      const busy = tempDir();
      writeFileSync(path.join(busy, 'keep.txt'), 'mine');
      expect(() => backupData(rt.config, busy, 'test')).toThrow(/is not empty/);
      expect(readdirSync(busy)).toEqual(['keep.txt']);

      const file = path.join(tempDir(), 'a-file');
      writeFileSync(file, 'x');
      expect(() => backupData(rt.config, file, 'test')).toThrow(/is not a folder/);

      const empty = testConfig(tempDir());
      expect(() => backupData(empty, path.join(tempDir(), 'b'), 'test')).toThrow(/no master\.db/);

      const pg = { ...rt.config, storage: 'postgres' as const };
      expect(() => backupData(pg, path.join(tempDir(), 'c'), 'test')).toThrow(/pg_dump/);
      expect(() => restoreBackup(pg, tempDir())).toThrow(/pg_restore/);
    } finally {
      await rt.close();
    }
  });

  it('fails whole, leaving no folder behind, when a live tenant file is missing', async () => {
    const { rt } = await populated();
    try {
      const victim = readdirSync(path.join(rt.dataDir, 'tenants')).find((f) => f.endsWith('.db'))!;
      await rt.app.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(rt.dataDir, 'tenants', victim + suffix), { force: true });
      const out = path.join(tempDir(), 'backup');
      expect(() => backupData(rt.config, out, 'test')).toThrow(new RegExp(`tenants/${victim.replace('.', '\\.')} is missing`));
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(rt.dataDir, { recursive: true, force: true });
    }
  });

  it('restore refuses a tampered, incomplete or foreign backup and leaves the data dir as it was', async () => {
    const { out } = await backedUp(true);
    const target = tempDir();
    const config = testConfig(target);

    const tampered = path.join(tempDir(), 'tampered');
    mkdirSync(tampered);
    for (const f of ['master.db', 'encryption.key', BACKUP_MANIFEST]) writeFileSync(path.join(tampered, f), readFileSync(path.join(out, f)));
    mkdirSync(path.join(tampered, 'tenants'));
    for (const f of readdirSync(path.join(out, 'tenants'))) writeFileSync(path.join(tampered, 'tenants', f), readFileSync(path.join(out, 'tenants', f)));
    const master = readFileSync(path.join(tampered, 'master.db'));
    master[master.length - 10] ^= 0xff;
    writeFileSync(path.join(tampered, 'master.db'), master);
    expect(() => restoreBackup(config, tampered)).toThrow(/master\.db does not match its checksum/);

    const manifest = JSON.parse(readFileSync(path.join(out, BACKUP_MANIFEST), 'utf8')) as BackupManifest;
    const escape = path.join(tempDir(), 'escape');
    mkdirSync(escape);
    writeFileSync(path.join(escape, BACKUP_MANIFEST), JSON.stringify({ ...manifest, files: [{ path: '../etc/passwd', size: 1, sha256: 'x' }] }));
    expect(() => restoreBackup(config, escape)).toThrow(/unexpected file/);

    const notJson = tempDir();
    writeFileSync(path.join(notJson, BACKUP_MANIFEST), '{');
    expect(() => restoreBackup(config, notJson)).toThrow(/not valid JSON/);
    writeFileSync(path.join(notJson, BACKUP_MANIFEST), JSON.stringify({ format: 'something-else' }));
    expect(() => restoreBackup(config, notJson)).toThrow(/not an Agentik OS SQLite backup/);
    expect(() => restoreBackup(config, tempDir())).toThrow(/no backup\.json/);

    const noMaster = tempDir();
    writeFileSync(path.join(noMaster, BACKUP_MANIFEST), JSON.stringify({ ...manifest, files: [] }));
    expect(() => restoreBackup(config, noMaster)).toThrow(/lists no master\.db/);

    const missing = path.join(tempDir(), 'missing');
    mkdirSync(missing);
    writeFileSync(path.join(missing, BACKUP_MANIFEST), JSON.stringify(manifest));
    expect(() => restoreBackup(config, missing)).toThrow(/master\.db is missing from the backup/);

    expect(readdirSync(target)).toEqual([]);
  });

  it('restore sets existing data aside only with force, and never deletes it', async () => {
    const { rt, out } = await backedUp(false);
    const before = readFileSync(path.join(rt.dataDir, 'master.db'));
    expect(() => restoreBackup(rt.config, out)).toThrow(/already holds data \(master\.db, tenants, encryption\.key\)/);
    expect(readFileSync(path.join(rt.dataDir, 'master.db'))).toEqual(before);

    const result = restoreBackup(rt.config, out, { force: true });
    expect(result.setAside).toMatch(/pre-restore-/);
    expect(readFileSync(path.join(result.setAside!, 'master.db'))).toEqual(before);
    expect(readdirSync(rt.dataDir).filter((f) => f.startsWith('.restore-'))).toEqual([]);
    rmSync(rt.dataDir, { recursive: true, force: true });
  });

  it('refuses a copy whose database fails integrity_check even when its checksum matches', async () => {
    const { out } = await backedUp(true);
    // Corrupt a tenant copy's pages past the header, then record the corrupt bytes as if genuine.
    const tenantFile = readdirSync(path.join(out, 'tenants'))[0]!;
    const file = path.join(out, 'tenants', tenantFile);
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 4096 + 100, 4096 * 3);
    chmodSync(file, 0o600);
    writeFileSync(file, bytes);
    const manifest = JSON.parse(readFileSync(path.join(out, BACKUP_MANIFEST), 'utf8')) as BackupManifest;
    const { createHash } = await import('node:crypto');
    const entry = manifest.files.find((f) => f.path === `tenants/${tenantFile}`)!;
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(path.join(out, BACKUP_MANIFEST), JSON.stringify(manifest));
    expect(() => verifyBackup(out)).toThrow(BackupError);
    expect(() => verifyBackup(out)).toThrow(new RegExp(`tenants/${tenantFile.replace('.', '\\.')} failed its integrity check`));
  });
});

describe('agentik backup / restore commands', () => {
  const run = async (env: NodeJS.ProcessEnv, ...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env, out: (l) => out.push(l), err: (l) => err.push(l) };
    return { code: await runCli(argv, io), out, err };
  };

  it('backs up and restores through the CLI, with usage errors for missing options', async () => {
    const dataDir = tempDir();
    const env = { AGENTIK_DATA_DIR: dataDir, AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: OPERATOR_KEY };
    expect((await run(env, 'tenant', 'create', '--name', 'Acme', '--owner', 'o@acme.test')).code).toBe(0);

    expect((await run(env, 'backup')).code).toBe(2);
    expect((await run(env, 'restore')).code).toBe(2);

    const out = path.join(tempDir(), 'b');
    const backup = await run(env, 'backup', '--out', out);
    expect(backup.code).toBe(0);
    expect(backup.out[0]).toMatch(/^backup: master\.db and 1 tenant stores, \d+ bytes/);
    expect(backup.out.at(-1)).toBe(out);

    const again = await run(env, 'backup', '--out', out);
    expect(again).toMatchObject({ code: 1 });
    expect(again.err[0]).toMatch(/^backup: .* is not empty/);

    const fresh = { ...env, AGENTIK_DATA_DIR: tempDir() };
    const restore = await run(fresh, 'restore', '--from', out);
    expect(restore.code).toBe(0);
    expect(restore.out[0]).toContain('restored master.db and 1 tenant stores');
    const list = await run(fresh, 'tenant', 'list', '--json');
    expect(list.out.map((l) => (JSON.parse(l) as { slug: string }).slug)).toEqual(['acme']);

    const refused = await run(fresh, 'restore', '--from', out);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(/^restore: .* already holds data/);
    const forced = await run(fresh, 'restore', '--from', out, '--force');
    expect(forced.code).toBe(0);
    expect(forced.out[1]).toMatch(/the data that was there is kept in .*pre-restore-/);
  });
});
