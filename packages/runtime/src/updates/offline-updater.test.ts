import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_KEY, silentLog } from '../test-support/harness.js';
import { childEnv } from '../test-support/spawn-runtime.js';
import { makeSigner, type TestSigner } from '../test-support/update-bundles.js';
import { dataFingerprint, installFirst, makeSandbox, type Sandbox } from '../test-support/update-sandbox.js';
import { APPLY_STEPS } from './journal.js';
import { runCommand } from './service-env.js';
import { updateCommand } from './update-command.js';

/**
 * The updater against a scratch install root: real releases (shell wrappers around the dev
 * runtime), the real server started and stopped by a service script, real SQLite data.
 */

let signer: TestSigner;
let sb: Sandbox;
const tenantKeys: Record<string, string> = {};

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await updateCommand(args, { env: childEnv({}), out: (l) => out.push(l), err: (l) => err.push(l) }, silentLog);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const common = () => ['--install-root', sb.root, '--service-command', sb.serviceCommand, '--health-stable-ms', '300', '--health-timeout', '30'];

async function api(method: string, url: string, key: string, body?: unknown, tenant?: string) {
  const response = await fetch(`${sb.baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(tenant ? { 'x-tenant-id': tenant } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function readyStatus(): Promise<number> {
  try {
    return (await fetch(`${sb.baseUrl}/ready`)).status;
  } catch {
    return 0;
  }
}

const current = () => path.basename(readlinkSync(path.join(sb.root, 'opt/agentik-os/current')));

/** Every tenant's agents are still there and readable with its own key. */
async function agentsReadable(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [slug, key] of Object.entries(tenantKeys)) {
    const r = await api('GET', '/api/agents', key);
    expect(r.status, slug).toBe(200);
    out[slug] = (r.json.data as { name: string }[]).map((a) => a.name).sort();
  }
  return out;
}

beforeAll(async () => {
  signer = makeSigner();
  sb = await makeSandbox(signer);
  installFirst(sb, signer, '1.0.0');
  const env = childEnv(Object.fromEntries(readFileSync(path.join(sb.root, 'etc/agentik-os/agentik.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')])));
  const migrated = await runCommand(path.join(sb.root, 'opt/agentik-os/current/bin/agentik'), ['migrate'], { env });
  expect(migrated.code, migrated.output).toBe(0);
  expect((await runCommand('/bin/sh', ['-c', `${sb.serviceCommand} start`])).code).toBe(0);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await readyStatus()) !== 200) await new Promise((r) => setTimeout(r, 250));
  const log = path.join(sb.root, 'service.log');
  expect(await readyStatus(), existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : 'no service.log').toBe(200);
  for (const slug of ['acme', 'beta', 'gamma']) {
    const t = await api('POST', '/api/tenants', OPERATOR_KEY, { name: slug, slug, owner: `ops@${slug}.example` });
    expect(t.status).toBe(201);
    const k = await api('POST', `/api/tenants/${slug}/keys`, OPERATOR_KEY, { role: 'owner' });
    tenantKeys[slug] = k.json.key as string;
    for (const name of ['support', 'sales']) {
      const a = await api('POST', '/api/agents', tenantKeys[slug]!, { name: `${slug}-${name}`, systemPrompt: 'You help.', provider: 'ollama', model: 'llama3.2' });
      expect(a.status).toBe(201);
    }
  }
}, 120_000);

afterAll(async () => {
  await runCommand('/bin/sh', ['-c', `${sb.serviceCommand} stop`]);
  signer.remove();
  sb.remove();
});

describe('agentik update against a scratch install root', () => {
  it('checks, applies 1.1.0 keeping every row and key, survives failing 1.2.0s, refuses downgrades and tampering, rolls back', async () => {
    const agents = await agentsReadable();
    const before = dataFingerprint(sb.dataDir);
    expect(Object.keys(before).length).toBeGreaterThan(10);

    const b110 = sb.bundle('1.1.0', 'good', ['notes_v110']);
    const check = await cli('check', '--source', path.dirname(b110), ...common());
    expect(check.err).toBe('');
    expect(check.code).toBe(0);
    expect(check.out).toContain('would update 1.0.0 -> 1.1.0 (version floor 1.0.0)');
    expect(check.out).toContain('tenant migrations: 1 new (0090_notes_v110.sql)');
    expect(current()).toBe('1.0.0');

    const applied = await cli('apply', '--source', b110, ...common());
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.out).toContain('updated 1.0.0 -> 1.1.0');
    expect(current()).toBe('1.1.0');
    expect(await readyStatus()).toBe(200);
    expect(await agentsReadable()).toEqual(agents);
    const after110 = dataFingerprint(sb.dataDir);
    for (const [table, sum] of Object.entries(before)) {
      if (!table.endsWith(':schema_migrations')) expect(after110[table], table).toBe(sum);
    }
    expect(Object.keys(after110).filter((t) => t.endsWith(':notes_v110'))).toHaveLength(4);
    const status = await cli('status', ...common());
    expect(status.out).toContain('current: 1.1.0');
    expect(status.out).toContain('version floor: 1.1.0');
    expect(status.out).toMatch(/rollback: to 1\.0\.0 with its data of \d{4}-/);
    const audit = readFileSync(path.join(sb.dataDir, 'updates/audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(audit.at(-1)).toMatchObject({ action: 'apply', outcome: 'committed', from: '1.0.0', to: '1.1.0', keyFingerprint: signer.fingerprint });
    expect(audit.at(-1)!.bundleSha256).toMatch(/^[0-9a-f]{64}$/);

    for (const [kind, detail] of [
      ['broken-migration', /UPDATE_ROLLED_BACK: update to 1\.2\.0 failed at migrate: agentik migrate exited 1/],
      ['never-ready', /UPDATE_ROLLED_BACK: update to 1\.2\.0 failed at health: .*\/ready did not answer 200 within 3 s/],
    ] as const) {
      const failed = await cli('apply', '--source', sb.bundle('1.2.0', kind, ['notes_v110', 'notes_v120']), ...common(), '--health-timeout', '3');
      expect(failed.code, failed.err).toBe(4);
      expect(failed.err).toMatch(detail);
      expect(current()).toBe('1.1.0');
      expect(await readyStatus()).toBe(200);
      expect(dataFingerprint(sb.dataDir)).toEqual(after110);
      expect(await agentsReadable()).toEqual(agents);
      expect(existsSync(path.join(sb.root, 'opt/agentik-os/releases/1.2.0'))).toBe(false);
    }

    const pid = readFileSync(path.join(sb.root, 'service.pid'), 'utf8');
    const refusals: [string[], RegExp][] = [
      [['--source', sb.bundle('1.0.0')], /^UPDATE_VERSION_BELOW_FLOOR: 1\.0\.0 is older than 1\.1\.0/],
      [['--source', sb.bundle('1.1.0', 'good', ['notes_v110'])], /^UPDATE_SAME_VERSION: 1\.1\.0 is the version running; pass --reinstall/],
      [['--source', tamper(sb.bundle('1.2.0', 'good', ['notes_v110', 'notes_v120']))], /^UPDATE_FILE_MISMATCH: LICENSE: size/],
      [['--source', path.join(sb.root, 'nowhere')], /^UPDATE_SOURCE_NOT_FOUND/],
    ];
    for (const [args, message] of refusals) {
      const refused = await cli('apply', ...args, ...common());
      expect(refused.code, refused.err).toBe(3);
      expect(refused.err).toMatch(message);
    }
    // Refused before anything stopped: the same server process still runs 1.1.0.
    expect(readFileSync(path.join(sb.root, 'service.pid'), 'utf8')).toBe(pid);
    expect(current()).toBe('1.1.0');

    const unconfirmed = await cli('rollback', ...common());
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.err).toMatch(/^UPDATE_CONFIRMATION_REQUIRED: rollback to 1\.0\.0 restores the data backed up at .*everything written since is lost/);
    const rolled = await cli('rollback', '--yes', ...common());
    expect(rolled.code, rolled.err).toBe(0);
    expect(current()).toBe('1.0.0');
    expect(await readyStatus()).toBe(200);
    expect(dataFingerprint(sb.dataDir)).toEqual(before);
    expect(await agentsReadable()).toEqual(agents);
    const again = await cli('rollback', '--yes', ...common());
    expect(again.err).toMatch(/^UPDATE_NOTHING_TO_ROLL_BACK/);
    const statusAfter = await cli('status', ...common());
    expect(statusAfter.out).toContain('current: 1.0.0');
    expect(statusAfter.out).toContain('version floor: 1.1.0');
    expect(statusAfter.out).toContain('rollback: none available');
    // The floor holds after the rollback: 1.0.5 is still older than 1.1.0.
    expect((await cli('apply', '--source', sb.bundle('1.0.5'), ...common())).err).toMatch(/^UPDATE_VERSION_BELOW_FLOOR/);

    // Forward again, then a reinstall of the running version into a release folder of its own.
    expect((await cli('apply', '--source', sb.bundle('1.1.0', 'good', ['notes_v110']), ...common())).code).toBe(0);
    const re = await cli('apply', '--reinstall', '--source', sb.bundle('1.1.0', 'good', ['notes_v110']), ...common());
    expect(re.code, re.err).toBe(0);
    expect(current()).toBe('1.1.0~r1');
    expect((await cli('status', '--json', ...common())).out).toContain('"current":"1.1.0"');
    expect(await agentsReadable()).toEqual(agents);
  }, 300_000);

  it('heals a SIGKILL after every journal step: recover leaves one version, healthy, with its data', async () => {
    const start = path.basename(readlinkSync(path.join(sb.root, 'opt/agentik-os/current')));
    const version = start.replace(/~r\d+$/, '');
    const before = dataFingerprint(sb.dataDir);
    const bin = path.join(sb.root, 'opt/agentik-os/current/bin/agentik');
    const next = sb.bundle('1.3.0', 'good', ['notes_v110', 'notes_v130']);
    const results: string[] = [];
    for (const step of APPLY_STEPS) {
      const killed = await spawnCli(bin, ['apply', '--source', next, ...common(), '--test-kill-after', step]);
      expect(killed.signal, `${step}: ${killed.output}`).toBe('SIGKILL');
      // Half of the time `recover`, half of the time `status` (which recovers first).
      const recovered = await cli(APPLY_STEPS.indexOf(step) % 2 === 0 ? 'recover' : 'status', ...common());
      expect(recovered.code, `${step}: ${recovered.err}`).toBe(0);
      expect(await readyStatus(), step).toBe(200);
      const now = path.basename(readlinkSync(path.join(sb.root, 'opt/agentik-os/current')));
      results.push(`${step}:${now}`);
      const data = dataFingerprint(sb.dataDir);
      if (step === 'commit') {
        expect(now).toBe('1.3.0');
        for (const [table, sum] of Object.entries(before)) if (!table.endsWith(':schema_migrations')) expect(data[table], table).toBe(sum);
      } else {
        expect(now, step).toBe(start);
        expect(data, step).toEqual(before);
      }
      expect(existsSync(path.join(sb.dataDir, 'updates/journal.jsonl')), step).toBe(false);
    }
    expect(results).toEqual(APPLY_STEPS.map((s) => `${s}:${s === 'commit' ? '1.3.0' : start}`));
    expect(version).toBe('1.1.0');
  }, 600_000);

  it('heals at boot: a power cut after the new release started, then recover --boot from the unit', async () => {
    const start = current();
    const before = dataFingerprint(sb.dataDir);
    const bin = path.join(sb.root, 'opt/agentik-os/current/bin/agentik');
    const killed = await spawnCli(bin, ['apply', '--source', sb.bundle('1.4.0', 'good', ['notes_v110', 'notes_v130', 'notes_v140']), ...common(), '--test-kill-after', 'health']);
    expect(killed.signal).toBe('SIGKILL');
    expect(current()).toBe('1.4.0');
    // The power goes: the service dies with the machine; at boot systemd runs recover first.
    expect((await runCommand('/bin/sh', ['-c', `${sb.serviceCommand} stop`])).code).toBe(0);
    const boot = await cli('recover', '--boot', '--install-root', sb.root, '--service-command', 'false');
    expect(boot.code, boot.err).toBe(0);
    expect(boot.out).toContain('interrupted update undone');
    expect(current()).toBe(start);
    expect(dataFingerprint(sb.dataDir)).toEqual(before);
    expect((await runCommand('/bin/sh', ['-c', `${sb.serviceCommand} start`])).code).toBe(0);
    for (let i = 0; i < 120 && (await readyStatus()) !== 200; i += 1) await new Promise((r) => setTimeout(r, 250));
    expect(await readyStatus()).toBe(200);
    expect(await agentsReadable()).toBeDefined();
  }, 300_000);
});

/** The bundle with one payload file changed after signing, repacked. */
function tamper(bundle: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-tamper-'));
  execFileSync('tar', ['-C', dir, '-xzf', bundle]);
  const top = readdirSync(dir)[0]!;
  appendFileSync(path.join(dir, top, 'LICENSE'), 'x');
  const out = path.join(path.dirname(bundle), 'tampered', path.basename(bundle));
  execFileSync('mkdir', ['-p', path.dirname(out)]);
  execFileSync('tar', ['-C', dir, '-czf', out, top]);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

function spawnCli(bin: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, ['update', ...args], { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}
