import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The superuser URL tests create databases with; CI may point it elsewhere. */
export const PG_ADMIN_URL = process.env.AGENTIK_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The runtime's login role in tests: what docs/postgres.md tells operators to create. */
export const TEST_LOGIN_ROLE = 'agentik_test_login';

/** A fresh database owned by the test login role, dropped (with its tenant roles) by `drop`. */
export interface TestDatabase {
  /** Database name (random). */
  name: string;
  /** URL of the runtime's login role on this database. */
  url: string;
  /** Superuser URL of this database, for tests that inspect catalogs. */
  adminUrl: string;
  /** Drops the database and every tenant role it created. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function asAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the login role if it is missing; concurrent test files may race to do it. */
async function ensureLoginRole(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEST_LOGIN_ROLE]);
  if (rows.length > 0) return;
  try {
    await admin.query(`CREATE ROLE ${TEST_LOGIN_ROLE} LOGIN CREATEROLE NOINHERIT`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42710 duplicate_object / 23505: another test file created it first.
    if (code !== '42710' && code !== '23505') throw error;
  }
}

/**
 * Makes a fresh database with a random name owned by the login role (created if missing), as
 * a test run of the Postgres backend needs. Tenant roles are cluster-wide, so `drop` also drops
 * the roles that own schemas in the database before it goes.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `agentik_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(PG_ADMIN_URL, async (admin) => {
    await ensureLoginRole(admin);
    await admin.query(`CREATE DATABASE ${name} OWNER ${TEST_LOGIN_ROLE}`);
  });
  const adminUrl = withDatabase(PG_ADMIN_URL, name);
  const login = new URL(withDatabase(PG_ADMIN_URL, name));
  login.username = TEST_LOGIN_ROLE;
  login.password = '';
  return {
    name,
    url: login.toString(),
    adminUrl,
    async drop() {
      const roles = await asAdmin(adminUrl, async (admin) => {
        const { rows } = await admin.query<{ rolname: string }>(
          `SELECT DISTINCT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
            WHERE n.nspname LIKE 't\\_%' AND r.rolname LIKE 'agentik\\_t\\_%'`,
        );
        return rows.map((r) => r.rolname);
      });
      await asAdmin(PG_ADMIN_URL, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        for (const role of roles) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      });
    },
  };
}
