import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { createKyselyMasterStore } from '../kysely/master-store.js';
import { createRateWindowRepository } from '../kysely/rate-window-repository.js';
import { createKyselyTenantStore, type TenantDialect } from '../kysely/tenant-store.js';
import type { MasterDb, TenantDb } from '../kysely/tables.js';
import { pendingMigrations, type MigrationSets } from '../migrations.js';
import type { ReadinessCheck, StorageBackend, TenantStoreHandle } from '../port.js';
import { isPgUniqueViolation } from './errors.js';
import { MASTER_SCHEMA, quoteIdent, scopeStatements } from './identifiers.js';
import { checkLoginRole } from './login-role.js';
import { searchMessagesTsvector } from './message-search.js';
import { appliedMigrations, applyMigrations, inTransaction } from './migrate.js';
import { createPgPool } from './pool.js';
import { createScopedKysely } from './scoped-driver.js';
import { destroyTenantSchema, migrateTenantSchema, provisionTenantSchema, tenantSchemaExists } from './tenant-schemas.js';
import { waitForDatabase, type WaitForDatabaseOptions } from './wait-for-database.js';

const TENANT_DIALECT: TenantDialect = {
  isUnique: isPgUniqueViolation,
  searchMessages: searchMessagesTsvector,
  // SHARE ROW EXCLUSIVE conflicts with itself and with writers, not with readers: concurrent
  // creates (on any replica) count one after the other, reads go on. Postgres-specific SQL.
  lockTable: async (db, table) => {
    await sql`LOCK TABLE ${sql.table(table)} IN SHARE ROW EXCLUSIVE MODE`.execute(db);
  },
};

export interface PostgresBackendOptions {
  /** `postgres://...`: the runtime's login role (LOGIN CREATEROLE NOINHERIT, owner of the database). */
  databaseUrl: string;
  migrations: MigrationSets;
  /** Connections this process may hold at most. */
  poolSize: number;
  /** Told about failures of idle pooled connections (the pool replaces them). */
  onIdleError?: (error: Error) => void;
  /** Wait this long for a database that is not up yet before giving up (default: do not wait). */
  startupWait?: Omit<WaitForDatabaseOptions, 'sleep' | 'now'>;
}

/** Brings the master schema up to date; concurrent starters queue on one advisory lock. */
async function migrateMaster(pool: pg.Pool, migrations: MigrationSets): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('agentik:master'))`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(MASTER_SCHEMA)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(MASTER_SCHEMA)}`);
    await applyMigrations(client, migrations.master, 'master store');
  });
}

/**
 * The scale-out backend: master tables in schema `agentik`, one schema `t_<id>` per tenant owned
 * by its own NOLOGIN role, every tenant unit of work scoped with SET LOCAL ROLE + search_path.
 * Refuses to start when the login role could read tenant schemas without switching role.
 */
export async function openPostgresBackend(options: PostgresBackendOptions): Promise<StorageBackend> {
  const { migrations } = options;
  const pool = createPgPool(options);
  const masterKysely = new Kysely<MasterDb>({ dialect: new PostgresDialect({ pool }) });
  // Every request of a tenant increments the same counter row; with a synchronous commit the row
  // lock would be held through a WAL flush, serializing the tenant's requests on the disk. A
  // database crash may lose the last counts, which matters for at most a minute.
  const counterPool = createPgPool({ ...options, poolSize: Math.max(2, Math.ceil(options.poolSize / 4)), asyncCommit: true });
  const counterKysely = new Kysely<MasterDb>({ dialect: new PostgresDialect({ pool: counterPool }) });
  const end = async () => {
    await masterKysely.destroy();
    await counterKysely.destroy();
    for (const p of [pool, counterPool]) if (!p.ended) await p.end();
  };
  try {
    if (options.startupWait !== undefined) await waitForDatabase(pool, options.startupWait);
    await checkLoginRole(pool);
    await migrateMaster(pool, migrations);
  } catch (error) {
    await end();
    throw error;
  }
  const master = { ...createKyselyMasterStore(masterKysely, isPgUniqueViolation), rateWindows: createRateWindowRepository(counterKysely) };
  // Tenants whose schema this process has already seen up to date (migrations only change with
  // a new release, which means a restart).
  const current = new Set<string>();

  return {
    kind: 'postgres',
    master,
    async provisionTenant(tenantId) {
      await provisionTenantSchema(pool, tenantId, migrations.tenant);
      current.add(tenantId);
    },
    async destroyTenant(tenantId) {
      current.delete(tenantId);
      await destroyTenantSchema(pool, tenantId);
    },
    tenantExists: (tenantId) => tenantSchemaExists(pool, tenantId),
    async openTenant(tenantId): Promise<TenantStoreHandle> {
      const scope = scopeStatements(tenantId);
      if (!current.has(tenantId)) {
        await migrateTenantSchema(pool, tenantId, migrations.tenant);
        current.add(tenantId);
      }
      const scoped = createScopedKysely<TenantDb>(pool, scope);
      return {
        store: createKyselyTenantStore(scoped.db, TENANT_DIALECT),
        // Ends this handle only: the pool is shared by every tenant and the master store.
        close: scoped.close,
      };
    },
    async readiness(): Promise<Record<string, ReadinessCheck>> {
      const checks: Record<string, ReadinessCheck> = {};
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
        await client.query('SELECT 1');
        checks.database = { ok: true };
      } catch (error) {
        client?.release(true);
        checks.database = { ok: false, detail: `database is not reachable (${(error as { code?: string }).code ?? 'error'})` };
        checks.migrations = { ok: false, detail: 'unknown: the database is not reachable' };
        return checks;
      }
      try {
        const pending = pendingMigrations(migrations.master, await appliedMigrations(client), 'master store').length;
        checks.migrations = pending === 0 ? { ok: true } : { ok: false, detail: `${pending} master migrations pending` };
      } catch (error) {
        checks.migrations = { ok: false, detail: (error as Error).message };
      } finally {
        client.release();
      }
      return checks;
    },
    close: end,
  };
}
