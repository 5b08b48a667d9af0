import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { scopeStatements, tenantRole, tenantSchema } from './identifiers.js';
import { createScopedKysely } from './scoped-driver.js';

/**
 * Isolation enforced by the database itself: tenant roles see only their own schema, the login
 * role sees no tenant schema without switching role, and deleting a tenant leaves nothing of it
 * but the tombstone.
 */

const PERMISSION_DENIED = '42501';
const UNDEFINED_TABLE = '42P01';

let db: TestDatabase;
let rt: TestRuntime;
/** A pool of the runtime's login role, as the backend has. */
let pool: pg.Pool;
/** A superuser connection to the same database, to read the catalogs. */
let admin: pg.Client;
let a: { id: string; key: string };
let b: { id: string; key: string };

async function errorOf(run: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await run();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the query to fail');
}

/** Runs `text` in a transaction of the login role after SET LOCAL ROLE to `role`. */
async function asRole(role: string, text: string): Promise<pg.QueryResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE "${role}"`);
    return await client.query(text);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  rt = await startTestRuntime({ AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: db.url, AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32), AGENTIK_LOG_LEVEL: 'warn' });
  pool = new pg.Pool({ connectionString: db.url, max: 4, options: '-c search_path=agentik' });
  admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  for (const name of ['Alpha', 'Beta']) {
    const t = await rt.createTenant({ name });
    const key = await rt.createKey(t.id);
    const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: 'bot', systemPrompt: `I am ${name}`, provider: 'ollama', model: 'llama3.2' } });
    expect(res.statusCode, res.body).toBe(201);
    if (name === 'Alpha') a = { id: t.id, key };
    else b = { id: t.id, key };
  }
});

afterAll(async () => {
  await admin?.end();
  await pool?.end();
  await rt?.close();
  await db?.drop();
});

describe('database-level tenant isolation (Postgres)', () => {
  it('gives each tenant a schema owned by its own NOLOGIN role', async () => {
    const { rows } = await admin.query<{ owner: string; canlogin: boolean }>(
      `SELECT r.rolname AS owner, r.rolcanlogin AS canlogin FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = $1`,
      [tenantSchema(a.id)],
    );
    expect(rows).toEqual([{ owner: tenantRole(a.id), canlogin: false }]);
    expect((await asRole(tenantRole(a.id), `SELECT name FROM "${tenantSchema(a.id)}".agents`)).rows).toEqual([{ name: 'bot' }]);
  });

  it("refuses tenant A's role access to tenant B's schema with a permission error", async () => {
    const error = await errorOf(() => asRole(tenantRole(a.id), `SELECT * FROM "${tenantSchema(b.id)}".agents`));
    expect(error.code).toBe(PERMISSION_DENIED);
    expect(error.message).toMatch(/permission denied for schema/);
    // Nor can it write there, or read the master schema (keys, tenants).
    const write = await errorOf(() => asRole(tenantRole(a.id), `DELETE FROM "${tenantSchema(b.id)}".agents`));
    expect(write.code).toBe(PERMISSION_DENIED);
    const master = await errorOf(() => asRole(tenantRole(a.id), 'SELECT * FROM agentik.api_keys'));
    expect(master.code).toBe(PERMISSION_DENIED);
  });

  it('fails an unscoped query through the pool: the login role cannot read any tenant schema', async () => {
    const qualified = await errorOf(() => pool.query(`SELECT * FROM "${tenantSchema(a.id)}".agents`));
    expect(qualified.code).toBe(PERMISSION_DENIED);
    // Unqualified, the login role's search_path is the master schema: there is no such table.
    const unqualified = await errorOf(() => pool.query('SELECT * FROM agents'));
    expect(unqualified.code).toBe(UNDEFINED_TABLE);
  });

  it("fails a query through tenant A's scoped handle that reaches for tenant B's schema", async () => {
    const { db: scoped, close } = createScopedKysely<Record<string, never>>(pool, scopeStatements(a.id));
    try {
      const own = await sql<{ name: string }>`SELECT name FROM agents`.execute(scoped);
      expect(own.rows).toEqual([{ name: 'bot' }]);
      const who = await sql<{ u: string; s: string }>`SELECT current_user AS u, current_setting('search_path') AS s`.execute(scoped);
      expect(who.rows[0]!.u).toBe(tenantRole(a.id));
      expect(who.rows[0]!.s.replace(/"/g, '')).toBe(tenantSchema(a.id));
      const error = await errorOf(() => sql`SELECT * FROM ${sql.table(`${tenantSchema(b.id)}.agents`)}`.execute(scoped));
      expect(error.code).toBe(PERMISSION_DENIED);
      // The scope is LOCAL: the pooled connection went back as the login role.
      expect((await pool.query('SELECT current_user AS u')).rows[0].u).not.toBe(tenantRole(a.id));
    } finally {
      await close();
    }
  });

  it("keeps B's API unaffected, and B's key cannot reach A's agents", async () => {
    const res = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(b.key, { 'x-tenant-id': a.id }) });
    expect(res.statusCode).toBe(404);
    const own = await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(b.key) });
    expect(own.json().data.map((x: { systemPrompt: string }) => x.systemPrompt)).toEqual(['I am Beta']);
  });

  it('deleting a tenant leaves no schema, no role and nothing of it but the tombstone', async () => {
    const del = await rt.app.inject({ method: 'DELETE', url: `/api/tenants/${a.id}`, headers: rt.operator() });
    expect(del.statusCode).toBe(204);
    const ns = await admin.query('SELECT nspname FROM pg_namespace WHERE nspname = $1', [tenantSchema(a.id)]);
    expect(ns.rows).toEqual([]);
    const roles = await admin.query('SELECT rolname FROM pg_roles WHERE rolname = $1', [tenantRole(a.id)]);
    expect(roles.rows).toEqual([]);
    // No table of any schema holds a row of it besides the master tombstone records.
    const tables = await admin.query<{ schemaname: string; relname: string }>(
      `SELECT schemaname, relname FROM pg_stat_user_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect([...new Set(tables.rows.map((t) => t.schemaname).filter((s) => s.startsWith('t_')))]).toEqual([tenantSchema(b.id)]);
    const tenant = await admin.query('SELECT status, deleted_at FROM agentik.tenants WHERE id = $1', [a.id]);
    expect(tenant.rows).toEqual([{ status: 'deleted', deleted_at: expect.any(String) }]);
    const liveKeys = await admin.query('SELECT id FROM agentik.api_keys WHERE tenant_id = $1 AND revoked_at IS NULL', [a.id]);
    expect(liveKeys.rows).toEqual([]);
    const windows = await admin.query('SELECT * FROM agentik.rate_windows WHERE tenant_id = $1', [a.id]);
    expect(windows.rows).toEqual([]);
    // The tombstone: the tenant row, its revoked keys, memberships and audit trail. Nothing else
    // in the master schema mentions the tenant.
    const mentioning: string[] = [];
    for (const t of tables.rows.filter((r) => r.schemaname === 'agentik')) {
      const n = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM agentik."${t.relname}" x WHERE x::text LIKE '%' || $1 || '%'`, [a.id]);
      if (Number(n.rows[0]!.n) > 0) mentioning.push(t.relname);
    }
    expect(mentioning.sort()).toEqual(['api_keys', 'memberships', 'platform_audit', 'tenants']);
    // The key is dead, and B is untouched.
    expect((await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(a.key) })).statusCode).toBe(401);
    expect((await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(b.key) })).statusCode).toBe(200);
  });
});
