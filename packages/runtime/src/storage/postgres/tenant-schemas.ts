import type pg from 'pg';
import type { Migration } from '../migrations.js';
import { MASTER_SCHEMA, quoteIdent, scopeStatements, tenantRole, tenantSchema } from './identifiers.js';
import { appliedMigrations, applyMigrations, inTransaction, TRACKING_TABLE_DDL } from './migrate.js';
import { pendingMigrations } from '../migrations.js';

/**
 * Creates the tenant's role and schema and runs the tenant migrations as that role, all in ONE
 * transaction: if any step fails, Postgres rolls back the role, the schema and every table.
 */
export async function provisionTenantSchema(pool: pg.Pool, tenantId: string, files: Migration[]): Promise<void> {
  const role = quoteIdent(tenantRole(tenantId));
  const schema = quoteIdent(tenantSchema(tenantId));
  await inTransaction(pool, async (client) => {
    // One round trip for the objects and the scope (identifiers are validated and quoted).
    // Membership lets the (NOINHERIT) login role SET ROLE to the tenant role, and gives nothing else.
    await client.query(
      `CREATE ROLE ${role} NOLOGIN; GRANT ${role} TO CURRENT_USER; CREATE SCHEMA ${schema} AUTHORIZATION ${role}; ` +
        `${scopeStatements(tenantId).sql}; ${TRACKING_TABLE_DDL}`,
    );
    await applyMigrations(client, files, `tenant ${tenantId}`, []);
  });
}

/** Whether the tenant's schema and role exist. */
async function objectsOf(client: pg.ClientBase, tenantId: string): Promise<{ schema: boolean; role: boolean }> {
  const { rows } = await client.query<{ schema: boolean; role: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS role`,
    [tenantSchema(tenantId), tenantRole(tenantId)],
  );
  return rows[0]!;
}

/**
 * Drops the tenant's schema (CASCADE: every table in it), its role and its rate counters, in one
 * transaction.
 * Only the schema's owner may drop it, hence the SET LOCAL ROLE first. Missing pieces are
 * skipped, so a retry after a partial failure elsewhere finishes the job.
 */
export async function destroyTenantSchema(pool: pg.Pool, tenantId: string): Promise<void> {
  const role = quoteIdent(tenantRole(tenantId));
  const schema = quoteIdent(tenantSchema(tenantId));
  await inTransaction(pool, async (client) => {
    const exists = await objectsOf(client, tenantId);
    if (exists.schema && exists.role) {
      await client.query(`SET LOCAL ROLE ${role}`);
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.query('RESET ROLE');
    }
    if (exists.role) await client.query(`DROP ROLE ${role}`);
    // The tenant's request counters are the last trace of it in the master schema besides the
    // tombstone; they go with the store.
    await client.query(`DELETE FROM ${quoteIdent(MASTER_SCHEMA)}.rate_windows WHERE tenant_id = $1`, [tenantId]);
  });
}

/** Whether the tenant's schema exists. */
export async function tenantSchemaExists(pool: pg.Pool, tenantId: string): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1', [tenantSchema(tenantId)]);
  return Number(rows[0]?.n) > 0;
}

/**
 * Brings an existing tenant schema up to date, as the tenant's role. The common case (nothing
 * pending) costs one read; otherwise an advisory lock keyed by the tenant makes concurrent
 * openers (other replicas) wait, and the pending list is read again under it.
 */
export async function migrateTenantSchema(pool: pg.Pool, tenantId: string, files: Migration[]): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query(scopeStatements(tenantId).sql);
    const where = `tenant ${tenantId}`;
    if (pendingMigrations(files, await appliedMigrations(client), where).length === 0) return 0;
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('agentik:tenant'), hashtext($1))`, [tenantId]);
    return applyMigrations(client, files, where);
  });
}
