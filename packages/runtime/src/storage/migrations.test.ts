import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../http/app.js';
import { newId } from '../lib/ids.js';
import { testConfig } from '../test-support/harness.js';
import {
  MigrationError,
  defaultMigrationsRoot,
  loadMigrationSets,
  loadMigrations,
  pendingMigrations,
} from './migrations.js';
import type { StorageBackend } from './port.js';
import { openSqliteBackend } from './sqlite/backend.js';
import { migrateDatabase } from './sqlite/open-database.js';

let work: string;
/** A copy of the shipped SQLite migrations that a test may edit. */
let root: string;
let dataDir: string;
const open: StorageBackend[] = [];
/** Versions of the shipped sets; other work adds migrations, so tests add theirs far above. */
const shipped = loadMigrationSets(defaultMigrationsRoot('sqlite'));
const masterVersions = shipped.master.map((m) => m.version);
const tenantVersions = shipped.tenant.map((m) => m.version);

function backend(): StorageBackend {
  const b = openSqliteBackend({ dataDir, migrations: loadMigrationSets(root) });
  open.push(b);
  return b;
}

async function closeAll() {
  while (open.length > 0) await open.pop()!.close();
}

function write(dir: string, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
}

function appliedVersions(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
      (r) => r.version,
    );
  } finally {
    db.close();
  }
}

function tableNames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'agentik-migrations-'));
  root = path.join(work, 'migrations');
  dataDir = path.join(work, 'data');
  cpSync(defaultMigrationsRoot('sqlite'), root, { recursive: true });
});

afterEach(async () => {
  await closeAll();
  rmSync(work, { recursive: true, force: true });
});

describe('loadMigrations', () => {
  it('reads numbered files in numeric order with a SHA-256 checksum of each', () => {
    const dir = path.join(work, 'set');
    // Written out of order on purpose.
    write(dir, {
      '0010_tenth.sql': 'SELECT 10;',
      '0002_second.sql': 'SELECT 2;',
      '0001_first.sql': 'SELECT 1;',
    });
    const set = loadMigrations(dir);
    expect(set.map((m) => [m.version, m.name])).toEqual([
      [1, 'first'],
      [2, 'second'],
      [10, 'tenth'],
    ]);
    expect(set[0]!.sql).toBe('SELECT 1;');
    expect(set[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(set.map((m) => m.checksum)).size).toBe(3);
  });

  it('finds the shipped master and tenant sets', () => {
    const sets = loadMigrationSets(defaultMigrationsRoot('sqlite'));
    expect(sets.master[0]).toMatchObject({ version: 1, name: 'init' });
    expect(sets.tenant[0]).toMatchObject({ version: 1, name: 'init' });
    expect(sets.master[0]!.sql).toContain('CREATE TABLE tenants');
    expect(sets.tenant[0]!.sql).toContain('CREATE TABLE agents');
  });

  it.each([
    ['no number', 'init.sql'],
    ['a short number', '1_init.sql'],
    ['capitals', '0001_Init.sql'],
    ['a hyphen', '0001_add-users.sql'],
    ['another extension', '0001_init.txt'],
    ['a stray file', 'README.md'],
  ])('refuses a file with %s', (_what, name) => {
    const dir = path.join(work, 'bad');
    write(dir, { '0001_ok.sql': 'SELECT 1;', [name]: 'SELECT 1;' });
    expect(() => loadMigrations(dir)).toThrow(MigrationError);
    expect(() => loadMigrations(dir)).toThrow(name);
  });

  it('refuses two migrations with the same number', () => {
    const dir = path.join(work, 'dup');
    write(dir, { '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 2;' });
    expect(() => loadMigrations(dir)).toThrow(MigrationError);
    expect(() => loadMigrations(dir)).toThrow(/two migrations .* number 0001/);
  });

  it('refuses a missing folder', () => {
    expect(() => loadMigrations(path.join(work, 'nope'))).toThrow(MigrationError);
    expect(() => loadMigrationSets(path.join(work, 'nope'))).toThrow(/does not exist/);
  });
});

describe('pendingMigrations', () => {
  const dir = () => {
    const d = path.join(work, 'p');
    write(d, { '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 2;', '0003_c.sql': 'SELECT 3;' });
    return loadMigrations(d);
  };

  it('returns the files not applied yet, in order', () => {
    const files = dir();
    const applied = [{ version: 1, name: 'a', checksum: files[0]!.checksum }];
    expect(pendingMigrations(files, applied, 'here').map((m) => m.version)).toEqual([2, 3]);
    expect(pendingMigrations(files, [], 'here')).toHaveLength(3);
  });

  it('names the migration whose checksum changed', () => {
    const files = dir();
    const applied = [{ version: 2, name: 'b', checksum: 'f'.repeat(64) }];
    expect(() => pendingMigrations(files, applied, 'somewhere')).toThrow(
      /somewhere: migration 0002_b was edited after it was applied/,
    );
  });
});

describe('the SQLite backend and its migrations', () => {
  it('applies every master migration on first open and records it', async () => {
    backend();
    await closeAll();
    expect(appliedVersions(path.join(dataDir, 'master.db'))).toEqual(masterVersions);
    expect(tableNames(path.join(dataDir, 'master.db'))).toEqual(
      expect.arrayContaining(['tenants', 'users', 'memberships', 'api_keys', 'platform_audit', 'schema_migrations']),
    );
  });

  it('refuses to open the master store when an applied migration was edited afterwards', async () => {
    backend();
    await closeAll();
    appendFileSync(path.join(root, 'master', '0001_init.sql'), '\n-- a harmless-looking edit\n');
    let error: unknown;
    try {
      backend();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/master store: migration 0001_init was edited after it was applied/);
    expect((error as Error).message).toMatch(/add a new migration instead/);
  });

  it('refuses to open a tenant store whose applied migration was edited afterwards', async () => {
    const first = backend();
    const tenantId = newId('tenant');
    await first.provisionTenant(tenantId);
    await closeAll();
    appendFileSync(path.join(root, 'tenant', '0001_init.sql'), '\n-- edited\n');
    // The master store is untouched, so the backend opens; the tenant store does not.
    const second = backend();
    const failure = second.openTenant(tenantId);
    await expect(failure).rejects.toBeInstanceOf(MigrationError);
    await expect(second.openTenant(tenantId)).rejects.toThrow(
      new RegExp(`tenant ${tenantId}: migration 0001_init was edited after it was applied`),
    );
  });

  it('refuses a database that has applied a migration this release has no file for', async () => {
    write(path.join(root, 'master'), { '0900_extra.sql': 'CREATE TABLE extra (id TEXT PRIMARY KEY) STRICT;' });
    backend();
    await closeAll();
    unlinkSync(path.join(root, 'master', '0900_extra.sql'));
    expect(() => backend()).toThrow(MigrationError);
    expect(() => backend()).toThrow(/migration 0900_extra is applied but this release has no such file/);
  });

  it('applies new master migrations when the store is opened again', async () => {
    backend();
    await closeAll();
    write(path.join(root, 'master'), { '0900_settings.sql': 'CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT) STRICT;' });
    backend();
    await closeAll();
    const file = path.join(dataDir, 'master.db');
    expect(appliedVersions(file)).toEqual([...masterVersions, 900]);
    expect(tableNames(file)).toContain('settings');
  });

  it('applies new tenant migrations when an existing tenant store is opened', async () => {
    const first = backend();
    const tenantId = newId('tenant');
    await first.provisionTenant(tenantId);
    await closeAll();
    write(path.join(root, 'tenant'), { '0900_notes.sql': 'CREATE TABLE notes (id TEXT PRIMARY KEY) STRICT;' });
    const second = backend();
    const handle = await second.openTenant(tenantId);
    expect(await handle.store.agents.count()).toBe(0);
    await handle.close();
    const file = path.join(dataDir, 'tenants', `${tenantId}.db`);
    expect(appliedVersions(file)).toEqual([...tenantVersions, 900]);
    expect(tableNames(file)).toContain('notes');
  });

  it('rolls back a failing migration and leaves the earlier ones applied', async () => {
    write(path.join(root, 'master'), {
      '0900_good.sql': 'CREATE TABLE good (id TEXT PRIMARY KEY) STRICT;',
      '0901_bad.sql': 'CREATE TABLE half (id TEXT PRIMARY KEY) STRICT;\nTHIS IS NOT SQL;',
    });
    expect(() => backend()).toThrow(/master store: migration 901 \(bad\) failed/);
    const file = path.join(dataDir, 'master.db');
    expect(appliedVersions(file)).toEqual([...masterVersions, 900]);
    const tables = tableNames(file);
    expect(tables).toContain('good');
    expect(tables).not.toContain('half');
  });
});

describe('GET /ready and migrations', () => {
  it('is ready when the master migrations are current', async () => {
    const b = backend();
    expect(await b.readiness()).toEqual({ masterStore: { ok: true }, migrations: { ok: true } });
  });

  it('reports pending master migrations through readiness()', async () => {
    const b = backend();
    // Another release rolled the schema bookkeeping back under the running process.
    const side = new Database(path.join(dataDir, 'master.db'));
    side.prepare('DELETE FROM schema_migrations WHERE version = 1').run();
    side.close();
    const checks = await b.readiness();
    expect(checks.masterStore).toEqual({ ok: true });
    expect(checks.migrations).toEqual({ ok: false, detail: '1 master migrations pending' });
  });

  it('answers 503 not_ready over HTTP when master migrations are pending, and 200 once they are not', async () => {
    const config = testConfig(dataDir, { AGENTIK_MIGRATIONS_DIR: root, AGENTIK_LOG_LEVEL: 'silent' });
    const rt = await buildApp({ config });
    try {
      const ok = await rt.app.inject({ method: 'GET', url: '/ready' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ status: 'ready' });

      const side = new Database(path.join(dataDir, 'master.db'));
      const row = side.prepare('SELECT * FROM schema_migrations WHERE version = 1').get() as Record<string, unknown>;
      side.prepare('DELETE FROM schema_migrations WHERE version = 1').run();
      const pending = await rt.app.inject({ method: 'GET', url: '/ready' });
      expect(pending.statusCode).toBe(503);
      expect(pending.json()).toEqual({
        status: 'not_ready',
        checks: {
          masterStore: { ok: true },
          migrations: { ok: false, detail: '1 master migrations pending' },
          tenantPool: { ok: true },
        },
      });

      // An edited checksum is not "pending" but is just as unready, and says which migration.
      side
        .prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)')
        .run(row.version, row.name, 'e'.repeat(64), row.applied_at);
      const edited = await rt.app.inject({ method: 'GET', url: '/ready' });
      expect(edited.statusCode).toBe(503);
      const body = edited.json() as { checks: { migrations: { ok: boolean; detail: string } } };
      expect(body.checks.migrations.ok).toBe(false);
      expect(body.checks.migrations.detail).toMatch(/migration 0001_init was edited/);
      expect(body.checks.migrations.detail).not.toContain(work);

      side.prepare('UPDATE schema_migrations SET checksum = ? WHERE version = 1').run(row.checksum);
      side.close();
      const back = await rt.app.inject({ method: 'GET', url: '/ready' });
      expect(back.statusCode).toBe(200);
    } finally {
      await rt.app.close();
    }
  });

});

describe('tenant migration cost_events_outcome_failed (SQLite rebuilds the table to change its CHECK)', () => {
  const rebuild = shipped.tenant.find((m) => m.name === 'cost_events_outcome_failed')!;
  const columns = 'id, agent_id, conversation_id, message_id, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, outcome, usage_estimated, created_at, usage_anomaly';
  const row = (id: string, outcome: string, anomaly: string | null) => [id, 'ag_1', 'cv_1', null, 'openai', 'gpt-4o', 40, 100, 0.0011, 12, outcome, outcome === 'ok' ? 0 : 1, 1_000 + id.length, anomaly];
  const insert = (db: Database.Database, values: unknown[]) => db.prepare(`INSERT INTO cost_events (${columns}) VALUES (${columns.split(',').map(() => '?').join(', ')})`).run(...values);

  it('keeps every row, the indexes and the other checks, and lets outcome be failed', () => {
    expect(rebuild).toBeDefined();
    const db = new Database(path.join(work, 'tenant.db'));
    try {
      db.pragma('foreign_keys = ON');
      migrateDatabase(db, shipped.tenant.filter((m) => m.version < rebuild.version), 'test');
      const before = [row('ce_1', 'ok', null), row('ce_22', 'aborted', 'over_bound'), row('ce_333', 'ok', 'invalid')];
      for (const values of before) insert(db, values);
      expect(() => insert(db, row('ce_x', 'failed', null))).toThrow(/CHECK/);

      migrateDatabase(db, shipped.tenant, 'test');
      const rows = db.prepare(`SELECT ${columns} FROM cost_events ORDER BY rowid`).raw().all();
      expect(rows).toEqual(before);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cost_events' AND sql IS NOT NULL ORDER BY name").pluck().all();
      expect(indexes).toEqual(['cost_events_by_conversation', 'cost_events_by_time']);
      insert(db, row('ce_4444', 'failed', null));
      expect(() => insert(db, row('ce_5', 'lost', null))).toThrow(/CHECK/);
      expect(() => insert(db, row('ce_6', 'ok', 'made_up'))).toThrow(/CHECK/);
      expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
      expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    } finally {
      db.close();
    }
  });
});

/**
 * The last migration of each set when the backends' numbering was aligned. Past these, a change
 * made on both backends has the same number and name on both, and a number is never used by two
 * different changes (a change only one backend needs leaves its number unused on the other).
 */
const ALIGNED_AFTER = { master: { sqlite: 3, postgres: 2 }, tenant: { sqlite: 6, postgres: 5 } } as const;

describe('the two backends number their migrations alike', () => {
  const sets = { sqlite: loadMigrationSets(defaultMigrationsRoot('sqlite')), postgres: loadMigrationSets(defaultMigrationsRoot('postgres')) };
  for (const kind of ['master', 'tenant'] as const) {
    it(`${kind}: after the alignment, one number means one change on both backends`, () => {
      const floor = Math.max(ALIGNED_AFTER[kind].sqlite, ALIGNED_AFTER[kind].postgres);
      const newer = (backend: 'sqlite' | 'postgres') => sets[backend][kind].filter((m) => m.version > ALIGNED_AFTER[kind][backend]);
      for (const backend of ['sqlite', 'postgres'] as const) {
        for (const m of newer(backend)) expect(m.version, `${backend} ${kind} ${m.name}`).toBeGreaterThan(floor);
      }
      const other = new Map(newer('postgres').map((m) => [m.version, m.name]));
      for (const m of newer('sqlite')) {
        if (other.has(m.version)) expect(other.get(m.version), `${kind} migration ${m.version}`).toBe(m.name);
      }
      const byName = new Map(newer('postgres').map((m) => [m.name, m.version]));
      for (const m of newer('sqlite')) if (byName.has(m.name)) expect(byName.get(m.name), `${kind} migration ${m.name}`).toBe(m.version);
    });
  }
});
