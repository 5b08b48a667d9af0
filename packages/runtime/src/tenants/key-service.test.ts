import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/commands.js';
import { bearer, startTestRuntime, type TestRuntime } from '../test-support/harness.js';

/** Each key change lands in both audit logs: the platform's and the tenant's own. */
let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
});
afterAll(async () => {
  await rt.close();
});

const tenantAudit = async (key: string) =>
  ((await rt.app.inject({ method: 'GET', url: '/api/audit?limit=200', headers: bearer(key) })).json() as {
    data: { actor: string; action: string; target: string | null; details: Record<string, unknown> }[];
  }).data;
const platformAudit = async (tenantId: string) => (await rt.backend.master.audit.list({ limit: 200 }, tenantId)).items;

describe('KeyService', () => {
  it('audits a key the operator issued in the tenant log too, not only the platform log', async () => {
    const t = await rt.createTenant({ name: 'Audited' });
    const res = await rt.app.inject({ method: 'POST', url: `/api/tenants/${t.id}/keys`, headers: rt.operator(), payload: { role: 'admin', name: 'ops' } });
    expect(res.statusCode).toBe(201);
    const { id, key } = res.json() as { id: string; key: string };
    const inTenant = (await tenantAudit(key)).filter((e) => e.target === `key:${id}`);
    expect(inTenant).toEqual([expect.objectContaining({ action: 'key.created', actor: expect.stringMatching(/^operator:key_/), details: { role: 'admin', name: 'ops' } })]);
    expect((await platformAudit(t.id)).filter((e) => e.target === `key:${id}`).map((e) => e.action)).toEqual(['key.created']);
  });

  it('audits a key a tenant admin issued and revoked in both logs', async () => {
    const t = await rt.createTenant({ name: 'Self-served' });
    const admin = await rt.createKey(t.id, 'admin');
    const made = await rt.app.inject({ method: 'POST', url: '/api/keys', headers: bearer(admin), payload: { role: 'member' } });
    expect(made.statusCode).toBe(201);
    const { id } = made.json() as { id: string };
    expect((await rt.app.inject({ method: 'DELETE', url: `/api/keys/${id}`, headers: bearer(admin) })).statusCode).toBe(204);
    const actions = (entries: { target: string | null; action: string }[]) => entries.filter((e) => e.target === `key:${id}`).map((e) => e.action);
    expect(actions(await tenantAudit(admin)).sort()).toEqual(['key.created', 'key.revoked']);
    expect(actions(await platformAudit(t.id)).sort()).toEqual(['key.created', 'key.revoked']);
  });

  it('audits a key the CLI issued and revoked in the tenant log too', async () => {
    const t = await rt.createTenant({ name: 'Console' });
    const owner = await rt.createKey(t.id);
    const out: string[] = [];
    const io = { env: { AGENTIK_DATA_DIR: rt.dataDir, AGENTIK_LOG_LEVEL: 'silent' }, out: (l: string) => out.push(l), err: () => undefined };
    expect(await runCli(['key', 'create', '--tenant', t.id, '--role', 'viewer'], io)).toBe(0);
    const { id } = JSON.parse(out[0]!) as { id: string };
    expect(await runCli(['key', 'revoke', id, '--tenant', t.slug], io)).toBe(0);
    const entries = (await tenantAudit(owner)).filter((e) => e.target === `key:${id}`);
    expect(entries.map((e) => [e.action, e.actor]).sort()).toEqual([
      ['key.created', 'cli'],
      ['key.revoked', 'cli'],
    ]);
  });
});
