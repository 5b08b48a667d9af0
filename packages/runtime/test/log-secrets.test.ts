import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../src/tenants/api-keys.js';
import { OPERATOR_KEY, bearer, startTestRuntime, type TestRuntime } from '../src/test-support/harness.js';
import { killServeChildren, spawnServe } from '../src/test-support/spawn-runtime.js';

/**
 * A full run at trace level (operator key, tenants, keys made by the operator and by a tenant,
 * key use, revocation, wrong keys, errors), then a search of every log line and every audit
 * entry for anything secret.
 */

let rt: TestRuntime;
/** Every secret the run handled; none of them may be written anywhere. */
const secrets = new Set<string>([OPERATOR_KEY]);
/** Every Authorization header value the run sent. */
const headerValues = new Set<string>();

async function send(options: InjectOptions & { headers?: Record<string, string> }) {
  const auth = options.headers?.authorization;
  if (auth) headerValues.add(auth);
  return rt.app.inject(options);
}

function issued(res: { statusCode: number; json(): unknown }): { id: string; key: string } {
  expect(res.statusCode).toBe(201);
  const body = res.json() as { id: string; key: string };
  secrets.add(body.key);
  return body;
}

/** Finds any secret, its hash, its tail, or an Authorization value in `text`. */
function leaksIn(text: string): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    // The tail is checked too, so that a key cut at its prefix or re-encoded still counts.
    for (const needle of [secret, secret.slice(10), hashApiKey(secret)]) {
      if (text.includes(needle)) found.push(`secret ${secret.slice(0, 10)}... as ${needle.slice(0, 10)}...`);
    }
  }
  for (const value of headerValues) if (text.includes(value)) found.push(`header value ${value.slice(0, 12)}...`);
  if (/bearer/i.test(text)) found.push('the word Bearer');
  return found;
}

const agent = { name: 'helper', systemPrompt: 'help', provider: 'ollama', model: 'llama3' };
const SEARCH_TERM = 'confidentialwhalebudget';

beforeAll(async () => {
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'trace' });
  headerValues.add(`Bearer ${OPERATOR_KEY}`);
  const op = rt.operator;

  // Operator: tenants, listing, suspend/resume.
  const acme = (await send({ method: 'POST', url: '/api/tenants', headers: op(), payload: { name: 'Acme', owner: 'a@acme.test' } })).json() as { id: string; slug: string };
  const beta = (await send({ method: 'POST', url: '/api/tenants', headers: op(), payload: { name: 'Beta', owner: 'b@beta.test' } })).json() as { id: string };
  expect((await send({ method: 'GET', url: '/api/tenants', headers: op() })).statusCode).toBe(200);
  expect((await send({ method: 'POST', url: `/api/tenants/${beta.id}/suspend`, headers: op() })).statusCode).toBe(200);
  expect((await send({ method: 'POST', url: `/api/tenants/${beta.id}/resume`, headers: op() })).statusCode).toBe(200);

  // Keys made by the operator, by a tenant owner, and by the operator inside a tenant.
  const owner = issued(await send({ method: 'POST', url: `/api/tenants/${acme.id}/keys`, headers: op(), payload: { role: 'owner', name: 'owner' } }));
  const admin = issued(await send({ method: 'POST', url: '/api/keys', headers: bearer(owner.key), payload: { role: 'admin' } }));
  const viewer = issued(await send({ method: 'POST', url: '/api/keys', headers: op(acme.slug), payload: { role: 'viewer', name: 'ro' } }));
  const betaKey = issued(await send({ method: 'POST', url: `/api/tenants/${beta.id}/keys`, headers: op(), payload: { role: 'member' } }));

  // Key use.
  expect((await send({ method: 'POST', url: '/api/agents', headers: bearer(admin.key), payload: agent })).statusCode).toBe(201);
  expect((await send({ method: 'GET', url: '/api/agents', headers: bearer(viewer.key) })).statusCode).toBe(200);
  expect((await send({ method: 'GET', url: '/api/keys', headers: bearer(owner.key) })).statusCode).toBe(200);
  expect((await send({ method: 'GET', url: '/api/agents', headers: bearer(betaKey.key) })).statusCode).toBe(200);

  // Revocation, then use of the revoked key.
  expect((await send({ method: 'DELETE', url: `/api/keys/${admin.id}`, headers: bearer(owner.key) })).statusCode).toBe(204);
  expect((await send({ method: 'GET', url: '/api/agents', headers: bearer(admin.key) })).statusCode).toBe(401);

  // Wrong keys, in every shape.
  const wrong = generateApiKey();
  secrets.add(wrong);
  for (const value of [`Bearer ${wrong}`, `bearer ${wrong}`, `Basic ${Buffer.from(`user:${wrong}`).toString('base64')}`, wrong]) {
    headerValues.add(value);
    expect((await send({ method: 'GET', url: '/api/agents', headers: { authorization: value } })).statusCode).toBe(401);
  }
  expect((await send({ method: 'GET', url: '/api/tenants', headers: bearer(wrong) })).statusCode).toBe(401);

  // Errors of all kinds, some carrying a secret where it does not belong.
  expect((await send({ method: 'POST', url: '/api/agents', headers: bearer(viewer.key), payload: agent })).statusCode).toBe(403);
  expect((await send({ method: 'GET', url: '/api/tenants', headers: bearer(owner.key) })).statusCode).toBe(403);
  expect((await send({ method: 'GET', url: '/api/agents', headers: bearer(owner.key, { 'x-tenant-id': beta.id }) })).statusCode).toBe(404);
  expect((await send({ method: 'GET', url: '/api/agents', headers: op() })).statusCode).toBe(400);
  expect((await send({ method: 'GET', url: '/api/agents/ag_missing', headers: bearer(owner.key) })).statusCode).toBe(404);
  const secretInBody = { role: 'viewer', apiKey: owner.key, key: owner.key };
  expect((await send({ method: 'POST', url: '/api/keys', headers: bearer(owner.key), payload: secretInBody })).statusCode).toBe(400);
  const secretInName = await send({ method: 'POST', url: '/api/agents', headers: bearer(owner.key), payload: { ...agent, provider: owner.key } });
  expect(secretInName.statusCode).toBe(400);
  const brokenJson = await send({
    method: 'POST',
    url: '/api/keys',
    headers: bearer(owner.key, { 'content-type': 'application/json' }),
    payload: `{"role":"viewer","note":"${owner.key}"`,
  });
  expect(brokenJson.statusCode).toBe(400);
  expect((await send({ method: 'GET', url: '/api/agents?limit=abc&bogus=1', headers: bearer(owner.key) })).statusCode).toBe(400);
  expect((await send({ method: 'GET', url: '/no/such/route', headers: bearer(owner.key) })).statusCode).toBe(404);

  // Tenant content in a query string (search terms, even a key pasted into one).
  const searched = await send({ method: 'GET', url: `/api/conversations/search?q=${SEARCH_TERM}+${owner.key}`, headers: bearer(owner.key) });
  expect(searched.statusCode).toBe(200);

  // Deleting a tenant revokes its keys.
  expect((await send({ method: 'DELETE', url: `/api/tenants/${beta.id}`, headers: op() })).statusCode).toBe(204);
  expect((await send({ method: 'GET', url: '/api/agents', headers: bearer(betaKey.key) })).statusCode).toBe(401);
});

afterAll(() => rt.close());

describe('no secret reaches a log line or an audit entry', () => {
  it('captured a full run at trace level', () => {
    // The search below only means something if there is plenty to search.
    expect(rt.logs.length).toBeGreaterThan(60);
    const lines = rt.logs.map((l) => JSON.parse(l) as { level: number; msg?: string; event?: string });
    expect(lines.some((l) => l.msg === 'incoming request')).toBe(true);
    expect(lines.some((l) => l.event === 'key.created')).toBe(true);
    expect(lines.some((l) => l.event === 'key.revoked')).toBe(true);
    expect(lines.some((l) => l.event === 'tenant.deleted')).toBe(true);
    expect(lines.some((l) => l.msg === 'request rejected')).toBe(true);
    expect(secrets.size).toBe(6);
  });

  it('has no secret, key hash, Bearer string or Authorization value in any log line', () => {
    const offending = rt.logs.map((line) => ({ line, leaks: leaksIn(line) })).filter((l) => l.leaks.length > 0);
    expect(offending, JSON.stringify(offending, null, 1)).toEqual([]);
  });

  it('logs request paths without their query strings (tenant content stays out of the logs)', () => {
    expect(rt.logs.some((l) => l.includes('/api/conversations/search'))).toBe(true);
    expect(rt.logs.filter((l) => l.includes(SEARCH_TERM))).toEqual([]);
  });

  it('has none in the tenant audit log', async () => {
    const tenants = (await rt.app.inject({ method: 'GET', url: '/api/tenants?limit=200', headers: rt.operator() })).json() as {
      data: Array<{ id: string; status: string }>;
    };
    const live = tenants.data.filter((t) => t.status === 'active');
    expect(live.length).toBeGreaterThan(0);
    for (const t of live) {
      const res = await rt.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: rt.operator(t.id) });
      expect(res.statusCode).toBe(200);
      const entries = (res.json() as { data: unknown[] }).data;
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) expect(leaksIn(JSON.stringify(entry))).toEqual([]);
    }
  });

  it('has none in the platform audit log', async () => {
    const page = await rt.backend.master.audit.list({ limit: 1000 });
    const actions = new Set(page.items.map((e) => e.action));
    for (const action of ['tenant.created', 'tenant.suspended', 'tenant.resumed', 'tenant.deleted', 'key.created', 'key.revoked']) {
      expect(actions).toContain(action);
    }
    for (const entry of page.items) expect(leaksIn(JSON.stringify(entry))).toEqual([]);
  });
});

describe('the serve banner', () => {
  const dirs: string[] = [];
  afterAll(() => {
    killServeChildren();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Runs `agentik serve`, lets `use` talk to it, then stops it and returns its stdout lines. */
  async function serveOnce(extra: Record<string, string>, use: (url: string, stdout: () => string[]) => Promise<void>) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-banner-'));
    dirs.push(dataDir);
    const child = await spawnServe({ AGENTIK_DATA_DIR: dataDir, AGENTIK_LOG_LEVEL: 'trace', ...extra });
    const out = () => child.output.join('');
    await use(child.url, () => out().split('\n'));
    child.proc.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    return out().split('\n').filter(Boolean);
  }

  it('prints a generated operator key only when AGENTIK_OPERATOR_KEY is unset, never in a JSON log line', async () => {
    let generated = '';
    const lines = await serveOnce({}, async (url, stdout) => {
      const at = stdout().findIndex((l) => l.includes('Operator key (shown once'));
      expect(at).toBeGreaterThan(0);
      generated = stdout()[at + 1]!.trim();
      expect(generated).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);
      // Use it, right and wrong, so that request logging gets its chance to leak it.
      expect((await fetch(`${url}/api/tenants`, { headers: { authorization: `Bearer ${generated}` } })).status).toBe(200);
      expect((await fetch(`${url}/api/tenants`, { headers: { authorization: `Bearer ${generated}x` } })).status).toBe(401);
    });
    const json = lines.filter((l) => l.startsWith('{'));
    expect(json.length).toBeGreaterThan(3);
    for (const line of json) {
      expect(line).not.toContain(generated);
      expect(line).not.toContain(generated.slice(10));
      expect(line).not.toMatch(/bearer/i);
    }
    // The key appears exactly once in the whole output: on its banner line.
    expect(lines.filter((l) => l.includes(generated.slice(10)))).toEqual([`    ${generated}`]);
  }, 60_000);

  it('prints no key when AGENTIK_OPERATOR_KEY is set, and never echoes the configured one', async () => {
    const configured = generateApiKey();
    const lines = await serveOnce({ AGENTIK_OPERATOR_KEY: configured }, async (url) => {
      expect((await fetch(`${url}/api/tenants`, { headers: { authorization: `Bearer ${configured}` } })).status).toBe(200);
    });
    expect(lines.some((l) => l.startsWith('Agentik OS listening on'))).toBe(true);
    expect(lines.join('\n')).not.toContain('Operator key');
    expect(lines.join('\n')).not.toContain(configured.slice(10));
    expect(lines.join('\n')).not.toMatch(/agk_[A-Za-z0-9_-]{43}/);
  }, 60_000);
});
