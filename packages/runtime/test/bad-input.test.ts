import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@agentik/shared';
import { OPERATOR_KEY, startTestServer, type TestServer } from '../src/test-support/harness.js';

/**
 * Hostile and broken requests against the real listening server. Each one must get a 4xx with
 * the exact stable code, a clean `{"error":{"code","message"}}` body, and leave the server
 * healthy with every earlier write intact.
 */

const BODY_LIMIT = 32 * 1024;

interface RawResponse {
  status: number;
  text: string;
}

let server: TestServer;
let base: { host: string; port: number };
let tenant: { id: string; slug: string };
let ownerKey: string;

/** Sends exactly these bytes to exactly this path (fetch would normalise `..` and encode). */
function raw(
  method: string,
  urlPath: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; chunked?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string | number> = { ...options.headers };
    if (body && !options.chunked) headers['content-length'] = body.length;
    const req = httpRequest({ ...base, method, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body && options.chunked) {
      // Several writes without a length: the limit has to hold while streaming too.
      for (let i = 0; i < body.length; i += 8192) req.write(body.subarray(i, i + 8192));
    } else if (body) req.write(body);
    req.end();
  });
}

const auth = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${ownerKey}`, ...extra });
const json = (extra: Record<string, string> = {}) => auth({ 'content-type': 'application/json', ...extra });
const operator = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${OPERATOR_KEY}`, ...extra });

const validAgent = { name: 'ok', systemPrompt: 'be nice', provider: 'ollama', model: 'llama3' };

/**
 * Things that must never reach a client: stack frames, source paths, SQL, driver names. The
 * data dir's own name is checked in `expectError`, once the server has made it.
 */
const LEAKS = [/\bat .+[(:]\d+/, /\.(ts|js|cjs|mjs)\b/, /node_modules/, /\/(work|tmp|home|usr)\//, /SQLITE/i, /\b(SELECT|INSERT|UPDATE|DELETE FROM|WHERE)\b/, /kysely/i, /better-sqlite/i];

function expectError(res: RawResponse, code: ErrorCode): void {
  expect(res.status, res.text).toBe(ERROR_CODES[code].status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const body = JSON.parse(res.text) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeLessThan(1_000);
  for (const leak of LEAKS) expect(body.error.message).not.toMatch(leak);
  expect(body.error.message).not.toContain(path.basename(server.dataDir));
}

async function snapshot() {
  const agents = await raw('GET', '/api/agents?limit=200', { headers: auth() });
  const tenants = await raw('GET', '/api/tenants?limit=200', { headers: operator() });
  const keys = await raw('GET', '/api/keys?limit=200', { headers: auth() });
  expect([agents.status, tenants.status, keys.status]).toEqual([200, 200, 200]);
  // lastUsedAt moves with every request; everything else must stay as it was.
  const keyList = (JSON.parse(keys.text) as { data: Array<Record<string, unknown>> }).data.map(({ lastUsedAt: _, ...k }) => k);
  return { agents: JSON.parse(agents.text) as unknown, tenants: JSON.parse(tenants.text) as unknown, keys: keyList };
}

let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  server = await startTestServer({ AGENTIK_BODY_LIMIT_BYTES: String(BODY_LIMIT), AGENTIK_LOG_LEVEL: 'debug' });
  const url = new URL(server.url);
  base = { host: url.hostname, port: Number(url.port) };

  const created = await raw('POST', '/api/tenants', {
    headers: operator({ 'content-type': 'application/json' }),
    body: JSON.stringify({ name: 'Target', slug: 'target', owner: 'o@target.test' }),
  });
  expect(created.status).toBe(201);
  tenant = JSON.parse(created.text) as { id: string; slug: string };
  const key = await raw('POST', `/api/tenants/${tenant.id}/keys`, {
    headers: operator({ 'content-type': 'application/json' }),
    body: JSON.stringify({ role: 'owner' }),
  });
  ownerKey = (JSON.parse(key.text) as { key: string }).key;
  for (const name of ['alpha', 'beta', 'gamma']) {
    const res = await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify({ ...validAgent, name }) });
    expect(res.status).toBe(201);
  }
  before = await snapshot();
});

afterAll(async () => {
  await server.close();
});

describe('bad bodies', () => {
  it('malformed JSON -> MALFORMED_REQUEST', async () => {
    for (const body of ['{"name":', '{name: "x"}', "{'a':1}", '{"a":1}}', 'nul', '\u0000']) {
      expectError(await raw('POST', '/api/agents', { headers: json(), body }), 'MALFORMED_REQUEST');
    }
  });

  it('prototype pollution keys -> MALFORMED_REQUEST', async () => {
    const body = '{"name":"p","systemPrompt":"s","provider":"ollama","model":"m","__proto__":{"admin":true}}';
    expectError(await raw('POST', '/api/agents', { headers: json(), body }), 'MALFORMED_REQUEST');
    const ctor = '{"constructor":{"prototype":{"admin":true}}}';
    expectError(await raw('POST', '/api/agents', { headers: json(), body: ctor }), 'MALFORMED_REQUEST');
  });

  it('a body over AGENTIK_BODY_LIMIT_BYTES -> PAYLOAD_TOO_LARGE, with or without a length', async () => {
    const body = JSON.stringify({ ...validAgent, systemPrompt: 'x'.repeat(BODY_LIMIT) });
    expectError(await raw('POST', '/api/agents', { headers: json(), body }), 'PAYLOAD_TOO_LARGE');
    expectError(await raw('POST', '/api/agents', { headers: json(), body, chunked: true }), 'PAYLOAD_TOO_LARGE');
    expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body }), 'PAYLOAD_TOO_LARGE');
  });

  it('a body just under the limit is accepted', async () => {
    const prompt = 'y'.repeat(BODY_LIMIT - 200);
    const res = await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify({ ...validAgent, name: 'big', systemPrompt: prompt }) });
    expect(res.status).toBe(201);
    const id = (JSON.parse(res.text) as { id: string }).id;
    const read = JSON.parse((await raw('GET', `/api/agents/${id}`, { headers: auth() })).text) as { systemPrompt: string };
    expect(read.systemPrompt).toBe(prompt);
    expect((await raw('DELETE', `/api/agents/${id}`, { headers: auth() })).status).toBe(204);
  });

  it('invalid UTF-8 bytes -> MALFORMED_REQUEST, nothing stored', async () => {
    const prefix = Buffer.from('{"name":"bad', 'utf8');
    const suffix = Buffer.from('","systemPrompt":"s","provider":"ollama","model":"m"}', 'utf8');
    for (const bad of [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]]) {
      const body = Buffer.concat([prefix, Buffer.from(bad), suffix]);
      expectError(await raw('POST', '/api/agents', { headers: json(), body }), 'MALFORMED_REQUEST');
    }
  });

  it('wrong types -> VALIDATION_FAILED', async () => {
    const cases: Array<Record<string, unknown>> = [
      { ...validAgent, name: 123 },
      { ...validAgent, temperature: 'hot' },
      { ...validAgent, temperature: 3 },
      { ...validAgent, maxTokens: 1.5 },
      { ...validAgent, maxTokens: '100' },
      { ...validAgent, provider: 'skynet' },
      { ...validAgent, systemPrompt: null },
      { ...validAgent, name: ['a'] },
      { ...validAgent, name: { $ne: null } },
      { ...validAgent, name: 'ctrl\u0007char' },
      { name: 'missing-fields' },
    ];
    for (const body of cases) {
      expectError(await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify(body) }), 'VALIDATION_FAILED');
    }
    for (const body of ['[]', '"agent"', '42', 'null', 'true']) {
      expectError(await raw('POST', '/api/agents', { headers: json(), body }), 'VALIDATION_FAILED');
    }
    const patchBodies = [{}, { temperature: -1 }, { name: '' }, { provider: 1 }];
    for (const body of patchBodies) {
      const id = (before.agents as { data: Array<{ id: string }> }).data[0]!.id;
      expectError(await raw('PATCH', `/api/agents/${id}`, { headers: json(), body: JSON.stringify(body) }), 'VALIDATION_FAILED');
    }
    const tenantBodies = [{ name: 'x', owner: 'o', plan: 'gold' }, { name: 5, owner: 'o' }, { owner: 'o' }];
    for (const body of tenantBodies) {
      const res = await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
      expectError(res, 'VALIDATION_FAILED');
    }
    expectError(await raw('POST', '/api/keys', { headers: json(), body: JSON.stringify({ role: 'root' }) }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/keys', { headers: json(), body: JSON.stringify({ role: 'operator' }) }), 'VALIDATION_FAILED');
  });

  it('unknown fields -> VALIDATION_FAILED', async () => {
    const agent = JSON.stringify({ ...validAgent, name: 'extra', tenantId: tenant.id });
    expectError(await raw('POST', '/api/agents', { headers: json(), body: agent }), 'VALIDATION_FAILED');
    const id = (before.agents as { data: Array<{ id: string }> }).data[0]!.id;
    const patch = JSON.stringify({ name: 'x', id: 'ag_00000000000000000000000000' });
    expectError(await raw('PATCH', `/api/agents/${id}`, { headers: json(), body: patch }), 'VALIDATION_FAILED');
    const t = JSON.stringify({ name: 'x', owner: 'o', status: 'active' });
    expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body: t }), 'VALIDATION_FAILED');
    const k = JSON.stringify({ role: 'viewer', tenantId: 'tn_00000000000000000000000000' });
    expectError(await raw('POST', '/api/keys', { headers: json(), body: k }), 'VALIDATION_FAILED');
  });

  it('10 kB strings in name fields -> VALIDATION_FAILED; in a long text field they are kept whole', async () => {
    const tenKb = 'n'.repeat(10 * 1024);
    expectError(await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify({ ...validAgent, name: tenKb }) }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify({ ...validAgent, model: tenKb }) }), 'VALIDATION_FAILED');
    const t = { name: tenKb, owner: 'o@x.test' };
    expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body: JSON.stringify(t) }), 'VALIDATION_FAILED');
    const slug = { name: 'x', owner: 'o@x.test', slug: 's'.repeat(10 * 1024) };
    expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body: JSON.stringify(slug) }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/keys', { headers: json(), body: JSON.stringify({ role: 'viewer', name: tenKb }) }), 'VALIDATION_FAILED');

    const multiByte = 'é✓😀'.repeat(2_600);
    const res = await raw('POST', '/api/agents', { headers: json(), body: JSON.stringify({ ...validAgent, name: 'unicode', systemPrompt: multiByte }) });
    expect(res.status).toBe(201);
    const created = JSON.parse(res.text) as { id: string; systemPrompt: string };
    expect(created.systemPrompt).toBe(multiByte);
    expect((await raw('DELETE', `/api/agents/${created.id}`, { headers: auth() })).status).toBe(204);
  });

  it('wrong or missing content type -> UNSUPPORTED_MEDIA_TYPE', async () => {
    const body = JSON.stringify({ ...validAgent, name: 'ctype' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      expectError(await raw('POST', '/api/agents', { headers: auth({ 'content-type': type }), body }), 'UNSUPPORTED_MEDIA_TYPE');
    }
    expectError(await raw('POST', '/api/agents', { headers: auth(), body }), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('empty body on POST -> VALIDATION_FAILED', async () => {
    expectError(await raw('POST', '/api/agents', { headers: json(), body: '' }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/agents', { headers: auth() }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body: '' }), 'VALIDATION_FAILED');
    expectError(await raw('POST', '/api/keys', { headers: json(), body: '' }), 'VALIDATION_FAILED');
  });
});

describe('hostile ids, slugs and headers', () => {
  const SQL = ["' OR '1'='1", "1; DROP TABLE agents;--", "x' UNION SELECT * FROM api_keys --", '%', '_', '*'];
  const TRAVERSAL = ['../../master.db', '..\\..\\master.db', '../tenants/../../etc/passwd', '....//....//', '%2e%2e%2f'];

  it('SQL and path-traversal strings in agent ids (URL-encoded) -> NOT_FOUND', async () => {
    for (const id of [...SQL, ...TRAVERSAL, tenant.id, '.', '..']) {
      const p = `/api/agents/${encodeURIComponent(id)}`;
      expectError(await raw('GET', p, { headers: auth() }), 'NOT_FOUND');
      expectError(await raw('DELETE', p, { headers: auth() }), 'NOT_FOUND');
      expectError(await raw('PATCH', p, { headers: json(), body: '{"name":"pwned"}' }), 'NOT_FOUND');
    }
  });

  it('SQL and path-traversal strings in key ids -> NOT_FOUND', async () => {
    for (const id of [...SQL, ...TRAVERSAL]) {
      expectError(await raw('DELETE', `/api/keys/${encodeURIComponent(id)}`, { headers: auth() }), 'NOT_FOUND');
    }
  });

  it('SQL and path-traversal strings as tenant ids, slugs and X-Tenant-ID -> TENANT_NOT_FOUND', async () => {
    for (const ref of [...SQL, ...TRAVERSAL, `${tenant.slug}'--`, `${tenant.id}/../x`]) {
      const p = `/api/tenants/${encodeURIComponent(ref)}`;
      expectError(await raw('GET', p, { headers: operator() }), 'TENANT_NOT_FOUND');
      expectError(await raw('DELETE', p, { headers: operator() }), 'TENANT_NOT_FOUND');
      expectError(await raw('POST', `${p}/suspend`, { headers: operator() }), 'TENANT_NOT_FOUND');
      const keyBody = { headers: operator({ 'content-type': 'application/json' }), body: '{"role":"owner"}' };
      expectError(await raw('POST', `${p}/keys`, keyBody), 'TENANT_NOT_FOUND');
      // Header values must be plain ASCII; encode the rest the way a client would have to.
      const header = /^[\x20-\x7e]*$/.test(ref) ? ref : encodeURIComponent(ref);
      expectError(await raw('GET', '/api/agents', { headers: operator({ 'x-tenant-id': header }) }), 'TENANT_NOT_FOUND');
      expectError(await raw('GET', '/api/agents', { headers: auth({ 'x-tenant-id': header }) }), 'TENANT_NOT_FOUND');
    }
    for (const slug of [...SQL, ...TRAVERSAL, 'UPPER', '-lead', 'trail-', 'a_b']) {
      const body = JSON.stringify({ name: 'evil', owner: 'o@x.test', slug });
      expectError(await raw('POST', '/api/tenants', { headers: operator({ 'content-type': 'application/json' }), body }), 'VALIDATION_FAILED');
    }
    // The data dir holds only what it should: no file was made from a hostile name.
    expect(readdirSync(path.join(server.dataDir, 'tenants')).filter((f) => !f.startsWith('tn_'))).toEqual([]);
  });

  it('an id past the length limit, a raw traversal and a broken percent-encoding are refused', async () => {
    // A parameter over the router's 200 characters never reaches a route: the router refuses it
    // (MALFORMED_REQUEST), or, with the dashboard's catch-all route mounted, nothing matches it.
    const long = await raw('GET', `/api/agents/${'a'.repeat(201)}`, { headers: auth() });
    const longCode = (JSON.parse(long.text) as { error: { code: ErrorCode } }).error.code;
    expect(['MALFORMED_REQUEST', 'NOT_FOUND']).toContain(longCode);
    expectError(long, longCode);
    expectError(await raw('GET', `/api/agents/${'a'.repeat(200)}`, { headers: auth() }), 'NOT_FOUND');
    expectError(await raw('GET', '/api/agents/../tenants', { headers: auth() }), 'NOT_FOUND');
    expectError(await raw('GET', '/api/agents/%zz', { headers: auth() }), 'MALFORMED_REQUEST');
    // A NUL is refused in every input string, path ids included (Postgres text cannot hold it).
    expectError(await raw('GET', '/api/agents/%00', { headers: auth() }), 'VALIDATION_FAILED');
  });

  it('junk in Authorization -> UNAUTHENTICATED', async () => {
    for (const value of ["Bearer ' OR 1=1 --", `Bearer ${'k'.repeat(10 * 1024)}`, 'Basic YWRtaW46YWRtaW4=', 'Bearer', `Bearer ${ownerKey}x`, 'Bearer ../../master.db']) {
      expectError(await raw('GET', '/api/agents', { headers: { authorization: value } }), 'UNAUTHENTICATED');
    }
    expectError(await raw('GET', '/api/agents', {}), 'UNAUTHENTICATED');
  });
});

describe('bad queries', () => {
  it('huge, negative, fractional and non-numeric limits and unknown parameters -> VALIDATION_FAILED', async () => {
    const queries = ['limit=1000000', 'limit=201', 'limit=0', 'limit=-5', 'limit=2.5', 'limit=abc', 'limit=1e400', 'limit=', 'limit=%20', 'limit=1&limit=2', 'foo=bar', `cursor=${'c'.repeat(10 * 1024)}`];
    for (const q of queries) {
      expectError(await raw('GET', `/api/agents?${q}`, { headers: auth() }), 'VALIDATION_FAILED');
      expectError(await raw('GET', `/api/audit?${q}`, { headers: auth() }), 'VALIDATION_FAILED');
      expectError(await raw('GET', `/api/keys?${q}`, { headers: auth() }), 'VALIDATION_FAILED');
      expectError(await raw('GET', `/api/tenants?${q}`, { headers: operator() }), 'VALIDATION_FAILED');
    }
    expectError(await raw('GET', '/api/tenants?status=gone', { headers: operator() }), 'VALIDATION_FAILED');
  });

  it('hostile cursors only ever page through the own agents', async () => {
    const own = (before.agents as { data: Array<{ id: string }> }).data.map((a) => a.id);
    for (const cursor of ["' OR 1=1 --", '../../master.db', "ag_' UNION SELECT hash FROM api_keys --", 'zzzzzzzz']) {
      const res = await raw('GET', `/api/agents?cursor=${encodeURIComponent(cursor)}`, { headers: auth() });
      expect(res.status).toBe(200);
      const ids = (JSON.parse(res.text) as { data: Array<{ id: string }> }).data.map((a) => a.id);
      // A cursor is an id to continue after: the answer is a tail of the own list, never more.
      expect(own.slice(own.length - ids.length)).toEqual(ids);
    }
  });
});

describe('after all of it', () => {
  it('the server is healthy, nothing failed inside, and every earlier write is intact', async () => {
    const ready = await raw('GET', '/ready');
    expect(ready.status).toBe(200);
    expect((JSON.parse(ready.text) as { status: string }).status).toBe('ready');
    expect(await snapshot()).toEqual(before);
    const metrics = await raw('GET', '/metrics');
    expect(metrics.text).not.toMatch(/agentik_http_errors_total\{code="INTERNAL"\}/);
    expect(metrics.text).not.toMatch(/status="5\d\d"/);
    const failures = server.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    expect(failures).toEqual([]);
  });
});
