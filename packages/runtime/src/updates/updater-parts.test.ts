import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLog, startTestRuntime } from '../test-support/harness.js';
import { makeBundleFolder, makeSigner, packBundle, type TestSigner } from '../test-support/update-bundles.js';
import { bundleInFolder, download, fetchBundle } from './bundle-source.js';
import { checkBackupPossible, copyTree, onPath, restoreFromBackup } from './data-backup.js';
import { waitReadyAndStable } from './health-gate.js';
import { layoutFor } from './layout.js';
import { serviceControl } from './service-control.js';
import { readEnvFile, runCommand, serviceEnv } from './service-env.js';
import { probeTenantStores } from './store-probe.js';
import { updateCommand } from './update-command.js';
import type { UpdateError } from './update-error.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'agentik-upd-'));
  dirs.push(d);
  return d;
};
let signer: TestSigner;
const servers: Server[] = [];

beforeAll(() => {
  signer = makeSigner();
});
afterAll(() => {
  signer.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const codeOf = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: unknown) => e)) as UpdateError | undefined)?.code;

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await updateCommand(args, { env: {}, out: (l) => out.push(l), err: (l) => err.push(l) }, silentLog);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('bundle source', () => {
  it('picks the newest bundle of this arch in a folder, takes a file as it is, and says when there is none', () => {
    const dir = temp();
    for (const v of ['1.0.0', '1.10.0', '1.9.0']) writeFileSync(path.join(dir, `agentik-os-${v}-linux-x64.tar.gz`), '');
    writeFileSync(path.join(dir, 'agentik-os-9.0.0-linux-arm64.tar.gz'), '');
    writeFileSync(path.join(dir, 'notes.txt'), '');
    expect(path.basename(bundleInFolder(dir, 'x64'))).toBe('agentik-os-1.10.0-linux-x64.tar.gz');
    expect(bundleInFolder(path.join(dir, 'notes.txt'), 'x64')).toBe(path.join(dir, 'notes.txt'));
    expect(() => bundleInFolder(temp(), 'x64')).toThrow(/no agentik-os-<version>-linux-x64\.tar\.gz in/);
    expect(() => bundleInFolder(path.join(dir, 'missing'), 'x64')).toThrow(/does not exist/);
  });

  it('downloads over plain HTTP, and refuses an error status, an oversized body, a slow server and https', async () => {
    const body = Buffer.alloc(5000, 7);
    const base = await serve((req, res) => {
      if (req.url === '/ok') res.end(body);
      else if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(10 ** 9) });
        res.end();
      } else if (req.url === '/chunked') {
        res.write(body);
        res.end(body);
      } else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000);
      else res.writeHead(404).end();
    });
    const dir = temp();
    const file = await fetchBundle(`${base}/ok`, 'x64', dir);
    expect(readFileSync(file)).toEqual(body);
    const limits = { maxBytes: 8000, timeoutMs: 500 };
    expect(await codeOf(download(`${base}/missing`, path.join(dir, 'a'), limits))).toBe('UPDATE_DOWNLOAD_FAILED');
    await expect(download(`${base}/big`, path.join(dir, 'b'), limits)).rejects.toThrow(/1000000000 bytes is more than the 8000 allowed/);
    await expect(download(`${base}/chunked`, path.join(dir, 'c'), limits)).rejects.toThrow(/more than the 8000 bytes allowed/);
    await expect(download(`${base}/slow`, path.join(dir, 'd'), limits)).rejects.toThrow(/not downloaded within 1 s/);
    await expect(download('http://127.0.0.1:1/x', path.join(dir, 'e'), limits)).rejects.toThrow(/ECONNREFUSED/);
    expect(await codeOf(fetchBundle('https://example.invalid/b.tar.gz', 'x64', dir))).toBe('UPDATE_USAGE');
  });

  it('check reads a bundle served over HTTP', async () => {
    const root = temp();
    const layout = layoutFor(root);
    mkdirSync(layout.trustedKeysDir, { recursive: true });
    signer.exportKey(path.join(layout.trustedKeysDir, 'release.asc'));
    const bundle = packBundle(makeBundleFolder(temp(), '2.0.0', signer, { 'bin/agentik': '#!/bin/sh\n', 'backends/sqlite/migrations/tenant/0001_init.sql': 'select 1;\n' }), temp());
    const base = await serve((_req, res) => res.end(readFileSync(bundle)));
    const r = await cli('check', '--source', `${base}/agentik-os-2.0.0-linux-x64.tar.gz`, '--install-root', root, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ candidate: '2.0.0', keyFingerprint: signer.fingerprint, newMigrations: { master: [], tenant: ['0001_init.sql'] } });
    const text = await cli('check', '--source', bundle, '--install-root', root);
    expect(text.out).toContain('would update (nothing installed) -> 2.0.0 (version floor none)');
    expect(text.out).toContain('master migrations: none new');
    // A bundle without bin/agentik is no release.
    const nobin = packBundle(makeBundleFolder(temp(), '2.0.1', signer, { LICENSE: 'x\n' }), temp());
    expect((await cli('check', '--source', nobin, '--install-root', root)).err).toBe('UPDATE_MANIFEST_INVALID: the bundle has no bin/agentik');
  });
});

describe('the update command line', () => {
  it('prints usage, and refuses unknown commands, options and bad values with exit 2', async () => {
    expect((await cli()).code).toBe(2);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: agentik update <command>');
    for (const args of [['frobnicate'], ['apply'], ['check'], ['status', '--bogus'], ['apply', '--source', 'x', '--health-timeout', 'soon'], ['status', '--health-stable-ms', 'x'], ['status', '--test-kill-after', 'nap']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^UPDATE_USAGE: /);
    }
  });

  it('refuses to apply or roll back where nothing is installed, and reports an empty status', async () => {
    const root = temp();
    const apply = await cli('apply', '--source', root, '--install-root', root);
    expect(apply).toMatchObject({ code: 3 });
    expect(apply.err).toMatch(/^UPDATE_NOT_INSTALLED: no release is installed/);
    expect((await cli('rollback', '--yes', '--install-root', root)).err).toMatch(/^UPDATE_NOT_INSTALLED/);
    expect((await cli('recover', '--install-root', root)).out).toBe('no interrupted update');
    const status = await cli('status', '--install-root', root);
    expect(status.out).toContain('current: not installed');
  });

  it('status says when another updater holds the lock, and does not touch its journal', async () => {
    const root = temp();
    const layout = layoutFor(root);
    mkdirSync(layout.releasesDir, { recursive: true });
    mkdirSync(path.join(layout.releasesDir, '1.0.0'));
    symlinkSync('releases/1.0.0', layout.currentLink);
    mkdirSync(layout.updatesDir, { recursive: true });
    writeFileSync(layout.journalFile, `${JSON.stringify({ op: 'apply', from: '1.0.0', startedAt: 'x' })}\n`);
    writeFileSync(layout.lockFile, JSON.stringify({ pid: process.ppid, boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() }));
    const status = await cli('status', '--install-root', root);
    expect(status.code).toBe(0);
    expect(status.out).toContain('an update is running right now');
    expect(status.out).toContain('current: 1.0.0');
    expect(readFileSync(layout.journalFile, 'utf8')).toContain('"op":"apply"');
    expect((await cli('recover', '--install-root', root)).err).toMatch(/^UPDATE_LOCKED/);
  });

  it('read-stores reads every live tenant store with the configured settings', async () => {
    const rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
    try {
      for (const slug of ['a', 'b', 'c']) await rt.createTenant({ name: slug, slug });
      const out: string[] = [];
      const code = await updateCommand(['read-stores'], { env: { AGENTIK_DATA_DIR: rt.dataDir, AGENTIK_LOG_LEVEL: 'silent' }, out: (l) => out.push(l), err: () => {} });
      expect(code).toBe(0);
      expect(out).toEqual(['read 3 of 3 live tenant stores']);
    } finally {
      await rt.close();
    }
  });
});

describe('tenant store probe', () => {
  it('names each tenant store that cannot be read, and reads a sample past the limit', async () => {
    const rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
    try {
      const ids: string[] = [];
      for (const slug of ['a', 'b', 'c']) ids.push((await rt.createTenant({ name: slug, slug })).id);
      await rt.app.close();
      // A tenant file a broken migration left unreadable.
      writeFileSync(path.join(rt.dataDir, 'tenants', `${ids[1]}.db`), 'this is not a database, it only has a long enough text in it to look like one');
      const result = await probeTenantStores(rt.config);
      expect(result.live).toBe(3);
      expect(result.read).toBe(2);
      expect(result.failures).toHaveLength(1);
      expect(result.failures[0]).toMatch(new RegExp(`^${ids[1]}: `));
      const sampled = await probeTenantStores(rt.config, 2);
      expect(sampled.live).toBe(3);
      expect(sampled.read + sampled.failures.length).toBe(2);
    } finally {
      rmSync(rt.dataDir, { recursive: true, force: true });
    }
  });
});

describe('service, environment, backups and health', () => {
  it('reads the env file as systemd does, and runs the service with it', () => {
    const root = temp();
    const layout = layoutFor(root);
    mkdirSync(layout.etcDir, { recursive: true });
    writeFileSync(layout.envFile, "# comment\n; other comment\nAGENTIK_PORT=4100\nAGENTIK_HOST='0.0.0.0'\nAGENTIK_STORAGE=\"postgres\"\nAGENTIK_DATABASE_URL=postgres://u@h/db\nnot a setting\n");
    expect(readEnvFile(layout.envFile)).toEqual({ AGENTIK_PORT: '4100', AGENTIK_HOST: '0.0.0.0', AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: 'postgres://u@h/db' });
    expect(readEnvFile(path.join(root, 'none'))).toEqual({});
    const svc = serviceEnv(layout, { AGENTIK_LOG_LEVEL: 'debug', PATH: '/nowhere' });
    expect(svc.baseUrl).toBe('http://127.0.0.1:4100');
    expect(svc.storage).toBe('postgres');
    expect(svc.env.AGENTIK_LOG_LEVEL).toBeUndefined();
    expect(svc.dataDir).toBe(layout.varDir);
    expect(() => checkBackupPossible(svc, false)).toThrow(/pg_dump is not on PATH.*--no-backup-i-have-my-own/);
    expect(() => checkBackupPossible(svc, true)).not.toThrow();
    expect(onPath('sh', { PATH: '/usr/bin:/bin' })).toBe(true);
    writeFileSync(layout.envFile, 'AGENTIK_HOST=::1\n');
    expect(serviceEnv(layout, {}).baseUrl).toBe('http://[::1]:3000');
  });

  it('reports a service command that fails, with its output', async () => {
    const control = serviceControl("sh -c 'echo cannot $1; exit 3' service");
    expect(control.describe).toContain('stop|start');
    await expect(control.stop()).rejects.toThrow(/stop of the service failed \(exit 3\): cannot stop/);
    expect(serviceControl(undefined).describe).toBe('systemctl stop|start agentik-os');
    expect(await runCommand('/no/such/program', [])).toMatchObject({ code: 127 });
  });

  it('copies /etc/agentik-os with modes and owners (the service reads agentik.env through its group)', () => {
    const from = path.join(temp(), 'etc');
    mkdirSync(path.join(from, 'trusted-keys'), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(from, 'agentik.env'), 'AGENTIK_PORT=1\n', { mode: 0o640 });
    symlinkSync('agentik.env', path.join(from, 'link'));
    const root = process.getuid!() === 0;
    if (root) chownSync(path.join(from, 'agentik.env'), 0, 4242);
    const to = path.join(temp(), 'copy');
    copyTree(from, to);
    const env = statSync(path.join(to, 'agentik.env'));
    expect(env.mode & 0o777).toBe(0o640);
    expect(env.gid).toBe(root ? 4242 : process.getgid!());
    expect(readFileSync(path.join(to, 'agentik.env'), 'utf8')).toBe('AGENTIK_PORT=1\n');
    expect(lstatSync(path.join(to, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(to, 'link'))).toBe('agentik.env');
    expect(statSync(path.join(to, 'trusted-keys')).isDirectory()).toBe(true);
  });

  it('refuses to restore an incomplete backup', async () => {
    const root = temp();
    const layout = layoutFor(root);
    expect(await codeOf(restoreFromBackup(layout, serviceEnv(layout, {}), temp()))).toBe('UPDATE_RESTORE_FAILED');
  });

  it('fails the health gate when /ready never answers 200, or stops answering it', async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls += 1;
      res.writeHead(calls <= 2 ? 200 : 503).end('{}');
    });
    await expect(waitReadyAndStable({ baseUrl: base, timeoutMs: 1000, stableMs: 500, intervalMs: 50 })).rejects.toThrow(/stopped answering 200 after it was ready \(503/);
    await expect(waitReadyAndStable({ baseUrl: base, timeoutMs: 200, stableMs: 100, intervalMs: 50 })).rejects.toThrow(/did not answer 200 within 0 s \(last: 503/);
  });
});
