import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { kyselyRunner, type QueryRunner } from '../kysely/compiled-query.js';
import { createKyselyMasterStore } from '../kysely/master-store.js';
import { createKyselyTenantStore } from '../kysely/tenant-store.js';
import type { MasterDb, TenantDb } from '../kysely/tables.js';
import type { MigrationSets } from '../migrations.js';
import type { ReadinessCheck, StorageBackend, TenantStore, TenantStoreHandle } from '../port.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';
import { FtsIndexer } from './fts-indexer.js';
import { searchMessagesFts5 } from './message-search.js';
import {
  countPending,
  isSqliteUniqueViolation,
  migrateDatabase,
  openDatabase,
  withStatementCache,
  type CachedDatabase,
} from './open-database.js';

const TENANT_DIALECT = { isUnique: isSqliteUniqueViolation, searchMessages: searchMessagesFts5 };

/**
 * Runs the repositories' compiled queries (`compileOnce`) as prepared statements on the
 * better-sqlite3 connection itself, skipping Kysely's driver: each message runs about ten point
 * reads and one-row inserts, and SQLite takes less time to run one than a trip through the
 * driver's mutex and promises costs. Kysely and these statements share one connection, so two
 * rules keep them apart:
 * - outside a transaction a statement runs directly only if it reads and no transaction is open
 *   on the connection (a Kysely transaction between two of its awaits); otherwise it goes through
 *   Kysely, which waits for that transaction to end and locks for a lone write;
 * - inside a transaction, which holds Kysely's lock on the connection for its whole length,
 *   statements read and write directly.
 *
 * `together` runs the reads that start at once (a run's reads before its model call) in one read
 * transaction of their own: SQLite otherwise begins and ends one per statement, each taking and
 * releasing its locks with system calls. Only when no transaction is open, and only around code
 * that does not yield: the reads run directly as they start, and the transaction ends before
 * anything else can use the connection.
 */
function directAccess(db: Database.Database, cache: CachedDatabase) {
  let readScope = false;
  const inside: QueryRunner = {
    read: (_, query) => promised(() => cache.prepare(query.sql).all(...query.parameters) as never[]),
    write: (_, query) =>
      promised(() => {
        const statement = cache.prepare(query.sql);
        if (!statement.reader) return { rows: [], changed: statement.run(...query.parameters).changes };
        const rows = statement.all(...query.parameters) as never[];
        return { rows, changed: rows.length };
      }),
  };
  const outside: QueryRunner = {
    read: (kysely, query) => (db.inTransaction && !readScope ? kyselyRunner.read(kysely, query) : inside.read(kysely, query)),
    write: kyselyRunner.write,
  };
  return {
    runner: (inTransaction: boolean): QueryRunner => (inTransaction ? inside : outside),
    together<T>(reads: () => T): T {
      if (db.inTransaction) return reads();
      cache.prepare('BEGIN').run();
      readScope = true;
      try {
        return reads();
      } finally {
        readScope = false;
        cache.prepare('COMMIT').run();
      }
    },
  };
}

/** A synchronous call as a promise: its result, or its error as a rejection. */
function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** Tenant ids are checked against this before they become part of a file name. */
const SAFE_ID = /^[a-z0-9_]{1,64}$/;

export interface SqliteBackendOptions {
  dataDir: string;
  migrations: MigrationSets;
  /** Hears about background work on a tenant file that failed: a WAL checkpoint or full-text indexing. */
  onBackgroundFailure?: (task: string, file: string, message: string) => void;
}

/**
 * The embedded backend: `<data>/master.db` and one file per tenant under `<data>/tenants/`.
 * Opening it creates the folders and brings the master store's schema up to date.
 */
export function openSqliteBackend(options: SqliteBackendOptions): StorageBackend {
  const { dataDir, migrations } = options;
  const tenantsDir = path.join(dataDir, 'tenants');
  mkdirSync(tenantsDir, { recursive: true, mode: 0o700 });
  const masterDb = openDatabase(path.join(dataDir, 'master.db'), false);
  try {
    migrateDatabase(masterDb, migrations.master, 'master store');
  } catch (error) {
    masterDb.close();
    throw error;
  }
  const masterCache = withStatementCache(masterDb);
  const masterKysely = new Kysely<MasterDb>({ dialect: new SqliteDialect({ database: masterCache }) });
  const master = createKyselyMasterStore(masterKysely, isSqliteUniqueViolation, false, directAccess(masterDb, masterCache).runner);

  const fileOf = (tenantId: string): string => {
    if (!SAFE_ID.test(tenantId)) throw new Error('invalid tenant id');
    return path.join(tenantsDir, `${tenantId}.db`);
  };
  const onFailure = options.onBackgroundFailure ?? (() => {});
  const checkpointer = startCheckpointer((file, message) => onFailure('WAL checkpoint', file, message));
  const removeFiles = (file: string) => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  };

  return {
    kind: 'sqlite',
    master,
    async provisionTenant(tenantId) {
      const file = fileOf(tenantId);
      if (existsSync(file)) throw new Error(`tenant store ${tenantId} already exists`);
      let db;
      try {
        db = openDatabase(file, false);
        migrateDatabase(db, migrations.tenant, `tenant ${tenantId}`);
        db.close();
      } catch (error) {
        db?.close();
        removeFiles(file);
        throw error;
      }
    },
    async destroyTenant(tenantId) {
      const file = fileOf(tenantId);
      await checkpointer.forget(file);
      removeFiles(file);
    },
    async tenantExists(tenantId) {
      return existsSync(fileOf(tenantId));
    },
    async openTenant(tenantId): Promise<TenantStoreHandle> {
      const file = fileOf(tenantId);
      const db = openDatabase(file, true);
      try {
        // Checkpoints run on the checkpointer's thread; this is only its fallback.
        db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
        migrateDatabase(db, migrations.tenant, `tenant ${tenantId}`);
      } catch (error) {
        db.close();
        throw error;
      }
      const cache = withStatementCache(db);
      const direct = directAccess(db, cache);
      const kysely = new Kysely<TenantDb>({ dialect: new SqliteDialect({ database: cache }) });
      const indexer = new FtsIndexer(kysely, (message) => onFailure('full-text indexing', file, message));
      // After each committed transaction (a group commit's included): index the messages it may
      // have queued, and checkpoint what it wrote, both off the request path.
      const decorate = (store: TenantStore, inTransaction: boolean): TenantStore => {
        if (inTransaction) return store;
        return {
          ...store,
          async transaction(fn) {
            const result = await store.transaction(fn);
            indexer.schedule();
            checkpointer.written(file);
            return result;
          },
        };
      };
      return {
        store: createKyselyTenantStore(kysely, { ...TENANT_DIALECT, decorate, runner: direct.runner, readTogether: direct.together }),
        // Kysely's destroy closes the better-sqlite3 handle (which checkpoints the WAL), but only
        // if a query ever ran through it: a store opened and evicted unused would stay open.
        close: async () => {
          await indexer.close();
          await kysely.destroy();
          if (db.open) db.close();
        },
      };
    },
    async readiness(): Promise<Record<string, ReadinessCheck>> {
      const checks: Record<string, ReadinessCheck> = {};
      try {
        masterDb.prepare('SELECT 1').get();
        checks.masterStore = { ok: true };
      } catch {
        checks.masterStore = { ok: false, detail: 'master store is not reachable' };
      }
      try {
        const pending = countPending(masterDb, migrations.master, 'master store');
        checks.migrations = pending === 0 ? { ok: true } : { ok: false, detail: `${pending} master migrations pending` };
      } catch (error) {
        checks.migrations = { ok: false, detail: (error as Error).message };
      }
      return checks;
    },
    async close() {
      await checkpointer.close();
      await masterKysely.destroy();
      // See openTenant: destroy leaves the handle open when Kysely never ran a query on it.
      if (masterDb.open) masterDb.close();
    },
  };
}
