import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { runCli } from './commands.js';
import type { CliIo } from './io.js';
import { startServer, type Server } from './serve.js';

const OPERATOR_KEY = 'agk_cli_test_operator_key_0123456789abcdef';

interface FakeIo extends CliIo {
  outLines: string[];
  errLines: string[];
}

function fakeIo(env: NodeJS.ProcessEnv): FakeIo {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { env, outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-cli-'));
  dirs.push(dir);
  return dir;
}

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('agentik CLI without config', () => {
  it('prints the version', async () => {
    for (const arg of ['version', '--version']) {
      const io = fakeIo({});
      expect(await runCli([arg], io)).toBe(0);
      expect(io.outLines).toEqual(['0.1.0']);
    }
  });

  it('prints the usage for help (exit 0) and with no command (exit 2)', async () => {
    const help = fakeIo({});
    expect(await runCli(['help'], help)).toBe(0);
    expect(help.outLines.join('\n')).toMatch(/^usage: agentik <command>/);
    for (const cmd of ['serve', 'migrate', 'tenant create', 'key create', 'key revoke', 'healthcheck']) {
      expect(help.outLines.join('\n')).toContain(cmd);
    }
    const none = fakeIo({});
    expect(await runCli([], none)).toBe(2);
    expect(none.outLines.join('\n')).toContain('usage: agentik');
  });

  it('rejects an unknown command with exit 2 and the usage on stderr', async () => {
    const io = fakeIo({ AGENTIK_DATA_DIR: tempDir() });
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.errLines.join('\n')).toContain('unknown command frobnicate');
    expect(io.errLines.join('\n')).toContain('usage: agentik');
    expect(io.outLines).toEqual([]);
  });

  it('stops with exit 78 on invalid config and lists every error', async () => {
    const io = fakeIo({ AGENTIK_PORT: 'not-a-port', AGENTIK_LOG_LEVEL: 'chatty', AGENTIK_FOO: '1' });
    expect(await runCli(['migrate'], io)).toBe(78);
    const text = io.errLines.join('\n');
    expect(text).toContain('invalid configuration');
    expect(text).toMatch(/AGENTIK_PORT: /);
    expect(text).toMatch(/AGENTIK_LOG_LEVEL: /);
    expect(text).toContain('AGENTIK_FOO: unknown setting');
    expect(io.outLines).toEqual([]);
  });

  it('reports a failure that is not a usage error with exit 1', async () => {
    const dir = tempDir();
    const io = fakeIo({ AGENTIK_DATA_DIR: dir, AGENTIK_MIGRATIONS_DIR: path.join(dir, 'missing') });
    expect(await runCli(['migrate'], io)).toBe(1);
    expect(io.errLines.join('\n')).toMatch(/^error: migrations folder .* does not exist/);
  });
});

describe('agentik tenant / key / migrate on a data dir', () => {
  let env: NodeJS.ProcessEnv;
  let server: Server | undefined;
  const run = async (...argv: string[]) => {
    const io = fakeIo(env);
    const code = await runCli(argv, io);
    return { code, out: io.outLines, err: io.errLines };
  };

  beforeAll(() => {
    env = { AGENTIK_DATA_DIR: tempDir(), AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: OPERATOR_KEY };
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('creates, lists and deletes tenants', async () => {
    const created = await run('tenant', 'create', '--name', 'Acme Corp', '--owner', 'ops@acme.test', '--plan', 'pro');
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.out[0]!) as { id: string; slug: string; name: string; plan: string };
    expect(tenant).toMatchObject({ slug: 'acme-corp', name: 'Acme Corp', plan: 'pro' });
    expect(tenant.id).toMatch(/^tn_[0-9a-z]{26}$/);

    const second = await run('tenant', 'create', '--name', 'Beta', '--owner', 'b@beta.test', '--slug', 'beta');
    expect(second.code).toBe(0);

    const list = await run('tenant', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toHaveLength(2);
    expect(list.out[0]).toBe(`${tenant.id}  acme-corp  pro  active  Acme Corp`);
    expect(list.out[1]).toMatch(/ {2}beta {2}free {2}active {2}Beta$/);

    const json = await run('tenant', 'list', '--json');
    expect(json.out.map((l) => (JSON.parse(l) as { slug: string }).slug)).toEqual(['acme-corp', 'beta']);

    const deleted = await run('tenant', 'delete', 'beta');
    expect(deleted).toMatchObject({ code: 0, out: ['deleted beta'] });
    const again = await run('tenant', 'delete', 'beta');
    expect(again.code).toBe(1);
    expect(again.err).toEqual(['no live tenant beta']);

    const after = await run('tenant', 'list', '--json');
    const statuses = after.out.map((l) => JSON.parse(l) as { slug: string; status: string });
    expect(statuses.find((t) => t.slug === 'beta')?.status).toBe('deleted');
    expect(statuses.find((t) => t.slug === 'acme-corp')?.status).toBe('active');
  });

  it('rejects bad tenant arguments with exit 2 and a taken slug with exit 1', async () => {
    const missing = await run('tenant', 'create', '--name', 'NoOwner');
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toContain('--owner');
    const badPlan = await run('tenant', 'create', '--name', 'X', '--owner', 'x@x.test', '--plan', 'platinum');
    expect(badPlan.code).toBe(2);
    expect(badPlan.err.join('\n')).toContain('--plan');
    const unknownFlag = await run('tenant', 'create', '--nmae', 'typo');
    expect(unknownFlag.code).toBe(2);
    expect((await run('tenant', 'delete')).code).toBe(2);
    expect((await run('tenant', 'explode')).code).toBe(2);

    expect((await run('tenant', 'create', '--name', 'Dup', '--owner', 'd@d.test', '--slug', 'dup')).code).toBe(0);
    const dup = await run('tenant', 'create', '--name', 'Dup 2', '--owner', 'd@d.test', '--slug', 'dup');
    expect(dup.code).toBe(1);
    expect(dup.err[0]).toMatch(/^CONFLICT: /);
  });

  it('issues tenant and operator keys that work against the server, and revokes them', async () => {
    // Started first: AGENTIK_OPERATOR_KEY only becomes the operator key while there is none yet.
    server = await startServer(loadConfig({ ...env, AGENTIK_PORT: '0' }), fakeIo(env));
    expect((await run('tenant', 'create', '--name', 'Keys Inc', '--owner', 'k@k.test', '--slug', 'keys-inc')).code).toBe(0);
    const tenantKey = await run('key', 'create', '--tenant', 'keys-inc', '--role', 'admin', '--name', 'ci');
    expect(tenantKey.code).toBe(0);
    const issued = JSON.parse(tenantKey.out[0]!) as { id: string; key: string; role: string };
    expect(issued.role).toBe('admin');
    expect(issued.key).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);

    const operatorKey = await run('key', 'create', '--operator', '--name', 'second-operator');
    expect(operatorKey.code).toBe(0);
    const op = JSON.parse(operatorKey.out[0]!) as { id: string; key: string; role: string };
    expect(op.role).toBe('operator');

    const get = (url: string, key: string) =>
      fetch(`${server!.url}${url}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    expect(await get('/api/agents', issued.key)).toBe(200);
    expect(await get('/api/tenants', op.key)).toBe(200);
    expect(await get('/api/tenants', issued.key)).toBe(403);

    // A key of one tenant cannot be revoked by naming another tenant.
    expect((await run('tenant', 'create', '--name', 'Other', '--owner', 'o@o.test', '--slug', 'other')).code).toBe(0);
    const wrongTenant = await run('key', 'revoke', issued.id, '--tenant', 'other');
    expect(wrongTenant.code).toBe(1);
    expect(await get('/api/agents', issued.key)).toBe(200);

    expect(await run('key', 'revoke', issued.id, '--tenant', 'keys-inc')).toMatchObject({ code: 0, out: [`revoked ${issued.id}`] });
    expect(await get('/api/agents', issued.key)).toBe(401);
    expect(await run('key', 'revoke', op.id)).toMatchObject({ code: 0 });
    expect(await get('/api/tenants', op.key)).toBe(401);
    // The configured operator key is untouched.
    expect(await get('/api/tenants', OPERATOR_KEY)).toBe(200);

    const again = await run('key', 'revoke', issued.id, '--tenant', 'keys-inc');
    expect(again.code).toBe(1);
    expect(again.err).toEqual([`no live key ${issued.id}`]);
  });

  it('rejects bad key arguments', async () => {
    expect((await run('key', 'create', '--role', 'admin')).code).toBe(2);
    expect((await run('key', 'create', '--tenant', 'keys-inc', '--role', 'god')).code).toBe(2);
    const unknownTenant = await run('key', 'create', '--tenant', 'nope-nope', '--role', 'admin');
    expect(unknownTenant.code).toBe(1);
    expect(unknownTenant.err[0]).toMatch(/^TENANT_NOT_FOUND: /);
    expect((await run('key', 'revoke')).code).toBe(2);
    expect((await run('key', 'rotate')).code).toBe(2);
  });

  it('migrates the master store and every live tenant store', async () => {
    const result = await run('migrate');
    expect(result.code).toBe(0);
    expect(result.out[0]).toMatch(/^master store: \d+ migrations current$/);
    const live = (await run('tenant', 'list', '--json')).out
      .map((l) => JSON.parse(l) as { status: string })
      .filter((t) => t.status !== 'deleted').length;
    expect(live).toBeGreaterThan(0);
    expect(result.out[1]).toMatch(new RegExp(`^tenant stores: ${live} at \\d+ migrations$`));
  });

  it('migrate adopts AGENTIK_OPERATOR_KEY on a fresh data dir, so serve needs no key in its config', async () => {
    const dataDir = tempDir();
    const seeded = fakeIo({ AGENTIK_DATA_DIR: dataDir, AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: OPERATOR_KEY });
    expect(await runCli(['migrate'], seeded)).toBe(0);
    expect(seeded.outLines[2]).toBe('operator key: AGENTIK_OPERATOR_KEY adopted');

    const other = fakeIo({ AGENTIK_DATA_DIR: dataDir, AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: `${OPERATOR_KEY}-other` });
    expect(await runCli(['migrate'], other)).toBe(0);
    expect(other.outLines[2]).toBe('operator key: one exists already, AGENTIK_OPERATOR_KEY ignored');

    const plain = { AGENTIK_DATA_DIR: dataDir, AGENTIK_LOG_LEVEL: 'silent' };
    const startIo = fakeIo(plain);
    server = await startServer(loadConfig({ ...plain, AGENTIK_PORT: '0' }), startIo);
    expect(startIo.outLines.join('\n')).not.toContain('Operator key');
    const list = (key: string) =>
      server!.runtime.app.inject({ method: 'GET', url: '/api/tenants', headers: { authorization: `Bearer ${key}` } });
    expect((await list(OPERATOR_KEY)).statusCode).toBe(200);
    expect((await list(`${OPERATOR_KEY}-other`)).statusCode).toBe(401);
  });
});

describe('agentik healthcheck', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let http503: HttpServer | undefined;
  beforeAll(async () => {
    env = { AGENTIK_DATA_DIR: tempDir(), AGENTIK_LOG_LEVEL: 'silent', AGENTIK_OPERATOR_KEY: OPERATOR_KEY };
    server = await startServer(loadConfig({ ...env, AGENTIK_PORT: '0' }), fakeIo(env));
  });
  afterAll(async () => {
    await server.stop();
    await new Promise<void>((resolve) => (http503 ? http503.close(() => resolve()) : resolve()));
  });

  it('exits 0 against a ready server (by --url and by the configured host and port)', async () => {
    const byUrl = fakeIo(env);
    expect(await runCli(['healthcheck', '--url', server.url], byUrl)).toBe(0);
    expect(byUrl.outLines[0]).toMatch(/^200 \{"status":"ready"/);

    const port = new URL(server.url).port;
    const byConfig = fakeIo({ ...env, AGENTIK_HOST: '0.0.0.0', AGENTIK_PORT: port });
    expect(await runCli(['healthcheck'], byConfig)).toBe(0);
  });

  it('exits 1 against a closed port', async () => {
    const io = fakeIo(env);
    expect(await runCli(['healthcheck', '--url', `http://127.0.0.1:${await closedPort()}`], io)).toBe(1);
    expect(io.errLines[0]).toMatch(/^not ready: /);
  });

  it('exits 1 when /ready answers 503', async () => {
    http503 = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"status":"not_ready"}');
    });
    await new Promise<void>((resolve) => http503!.listen(0, '127.0.0.1', resolve));
    const port = (http503.address() as { port: number }).port;
    const io = fakeIo(env);
    expect(await runCli(['healthcheck', '--url', `http://127.0.0.1:${port}`], io)).toBe(1);
    expect(io.outLines[0]).toBe('503 {"status":"not_ready"}');
  });
});

describe('agentik serve', () => {
  it('prints a generated operator key once, serves, and exits 0 on SIGINT', async () => {
    const env = { AGENTIK_DATA_DIR: tempDir(), AGENTIK_LOG_LEVEL: 'silent', AGENTIK_PORT: '0' };
    // Only our own handler may see the emitted signal; the worker's handlers are put back after.
    const saved = process.listeners('SIGINT');
    process.removeAllListeners('SIGINT');
    const savedTerm = process.listeners('SIGTERM');
    try {
      const io = fakeIo(env);
      const exit = runCli(['serve'], io);
      await expect.poll(() => io.outLines.some((l) => l.startsWith('Agentik OS listening on')), { timeout: 10_000 }).toBe(true);
      const url = /listening on (\S+)/.exec(io.outLines[0]!)![1]!;
      const keyLine = io.outLines.findIndex((l) => l.includes('Operator key (shown once'));
      expect(keyLine).toBeGreaterThan(0);
      const key = io.outLines[keyLine + 1]!.trim();
      expect(key).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);
      const res = await fetch(`${url}/api/tenants`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);

      process.emit('SIGINT', 'SIGINT');
      expect(await exit).toBe(0);
      await expect(fetch(`${url}/health`)).rejects.toThrow();

      // A second start on the same data dir does not print a key again.
      const again = fakeIo(env);
      const second = runCli(['serve'], again);
      await expect.poll(() => again.outLines.length > 0, { timeout: 10_000 }).toBe(true);
      expect(again.outLines.join('\n')).not.toContain('Operator key');
      process.emit('SIGINT', 'SIGINT');
      expect(await second).toBe(0);
    } finally {
      process.removeAllListeners('SIGINT');
      for (const l of saved) process.on('SIGINT', l);
      // serve() registered SIGTERM handlers too; drop ours, keep the worker's.
      for (const l of process.listeners('SIGTERM')) if (!savedTerm.includes(l)) process.off('SIGTERM', l);
    }
  });
});
