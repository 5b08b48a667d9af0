import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, PG_ADMIN_URL, TEST_LOGIN_ROLE, type TestDatabase } from '../../test-support/postgres.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import type { StorageBackend } from '../port.js';
import { openPostgresBackend } from './backend.js';
import { tenantRole, tenantSchema } from './identifiers.js';

/** Start-up checks, migrations and provisioning of the Postgres backend. */

const shipped = loadMigrationSets(defaultMigrationsRoot('postgres'));
let db: TestDatabase;
let admin: pg.Client;
const opened: StorageBackend[] = [];
const dirs: string[] = [];

const open = async (migrations = shipped, url = db.url) => {
  const b = await openPostgresBackend({ databaseUrl: url, poolSize: 4, migrations });
  opened.push(b);
  return b;
};

/** A copy of the shipped migrations that a test may change. */
function migrationsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-pgmig-'));
  dirs.push(dir);
  cpSync(defaultMigrationsRoot('postgres'), dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
});

afterAll(async () => {
  for (const b of opened) await b.close().catch(() => undefined);
  await admin?.end();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the Postgres backend', () => {
  it('two replicas starting together migrate the master schema once (advisory lock)', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const { rows } = await admin.query('SELECT version FROM agentik.schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(shipped.master.map((m) => m.version));
    expect(await a.readiness()).toEqual({ database: { ok: true }, migrations: { ok: true } });
    expect(await b.readiness()).toEqual({ database: { ok: true }, migrations: { ok: true } });
  });

  it('refuses a superuser login with a clear message', async () => {
    const superUrl = new URL(db.adminUrl).toString();
    await expect(open(shipped, superUrl)).rejects.toThrow(/superuser.*NOINHERIT/s);
  });

  it('refuses a login role with INHERIT and says how to fix it', async () => {
    const role = `agentik_test_inherit_${Date.now().toString(36)}`;
    await admin.query(`CREATE ROLE ${role} LOGIN CREATEROLE INHERIT`);
    await admin.query(`GRANT CREATE ON DATABASE ${db.name} TO ${role}`);
    try {
      const url = new URL(db.url);
      url.username = role;
      await expect(open(shipped, url.toString())).rejects.toThrow(`ALTER ROLE "${role}" NOINHERIT`);
      await admin.query(`ALTER ROLE ${role} NOINHERIT NOCREATEROLE`);
      await expect(open(shipped, url.toString())).rejects.toThrow(`ALTER ROLE "${role}" CREATEROLE`);
    } finally {
      await admin.query(`REVOKE CREATE ON DATABASE ${db.name} FROM ${role}`);
      await admin.query(`DROP ROLE ${role}`);
    }
  });

  it('refuses an unreachable database with the driver error, not a hang', async () => {
    const url = new URL(db.url);
    url.port = '1';
    await expect(open(shipped, url.toString())).rejects.toThrow();
  });

  it('refuses to start when an applied master migration was edited', async () => {
    const root = migrationsCopy();
    appendFileSync(path.join(root, 'master', '0001_init.sql'), '\n-- edited\n');
    await expect(open(loadMigrationSets(root))).rejects.toThrow(/master store: migration 0001_init was edited after it was applied/);
  });

  it('a failed provisioning leaves no schema, no role and no table', async () => {
    const root = migrationsCopy();
    writeFileSync(path.join(root, 'tenant', '0900_broken.sql'), 'CREATE TABLE fine (id TEXT); SELECT * FROM no_such_table;');
    const b = await open(loadMigrationSets(root));
    const id = 'tn_01broken0000000000000000000';
    await expect(b.provisionTenant(id)).rejects.toThrow(/migration 900 \(broken\) failed/);
    expect(await b.tenantExists(id)).toBe(false);
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [tenantRole(id)])).rows).toEqual([]);
    expect((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenantSchema(id)])).rows).toEqual([]);
  });

  it('applies a new tenant migration when a store is opened, as the tenant role', async () => {
    const b = await open();
    const id = 'tn_01later00000000000000000000';
    await b.provisionTenant(id);
    const root = migrationsCopy();
    writeFileSync(path.join(root, 'tenant', '0900_notes.sql'), 'CREATE TABLE notes (id TEXT PRIMARY KEY);');
    const [b1, b2] = await Promise.all([open(loadMigrationSets(root)), open(loadMigrationSets(root))]);
    const [h1, h2] = await Promise.all([b1.openTenant(id), b2.openTenant(id)]);
    const { rows } = await admin.query(`SELECT version FROM "${tenantSchema(id)}".schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual([...shipped.tenant.map((m) => m.version), 900]);
    const owner = await admin.query(`SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'notes'`, [tenantSchema(id)]);
    expect(owner.rows).toEqual([{ tableowner: tenantRole(id) }]);
    await h1.close();
    // Closing one handle leaves the shared pool and the other handle working.
    expect(await h2.store.agents.count()).toBe(0);
    await expect(h1.store.agents.count()).rejects.toThrow(/closed/);
    await h2.close();
    await b.destroyTenant(id);
    await b.destroyTenant(id);
    expect(await b.tenantExists(id)).toBe(false);
  });

  it('reports through readiness when another replica of a newer release migrated the master schema', async () => {
    const root = migrationsCopy();
    writeFileSync(path.join(root, 'master', '0900_more.sql'), 'CREATE TABLE more (id TEXT);');
    const current = await open();
    try {
      expect(await current.readiness()).toEqual({ database: { ok: true }, migrations: { ok: true } });
      await open(loadMigrationSets(root));
      const behind = await current.readiness();
      expect(behind.database).toEqual({ ok: true });
      expect(behind.migrations).toEqual({ ok: false, detail: expect.stringMatching(/0900_more is applied but this release has no such file/) });
      // And a replica whose files are ahead of the database counts what is pending.
      await admin.query('DROP TABLE agentik.more');
      await admin.query('DELETE FROM agentik.schema_migrations WHERE version = 900');
      const ahead = await open();
      await admin.query('DELETE FROM agentik.schema_migrations WHERE version = 1');
      expect((await ahead.readiness()).migrations).toEqual({ ok: false, detail: '1 master migrations pending' });
    } finally {
      await admin.query(`INSERT INTO agentik.schema_migrations VALUES (1, 'init', $1, 0) ON CONFLICT DO NOTHING`, [shipped.master[0]!.checksum]);
    }
  });

  it('reports an unreachable database through readiness instead of throwing', async () => {
    const b = await open();
    // Terminate this backend's connections and stop new ones by closing its pool.
    await b.close();
    const checks = await b.readiness();
    expect(checks.database!.ok).toBe(false);
    expect(checks.migrations!.ok).toBe(false);
  });

  it('the test database belongs to the login role, which is neither superuser nor INHERIT', async () => {
    const { rows } = await admin.query(
      `SELECT r.rolsuper, r.rolinherit, r.rolcreaterole, pg_get_userbyid(d.datdba) AS owner
         FROM pg_roles r, pg_database d WHERE r.rolname = $1 AND d.datname = $2`,
      [TEST_LOGIN_ROLE, db.name],
    );
    expect(rows).toEqual([{ rolsuper: false, rolinherit: false, rolcreaterole: true, owner: TEST_LOGIN_ROLE }]);
    expect(PG_ADMIN_URL).toMatch(/^postgres/);
  });
});
