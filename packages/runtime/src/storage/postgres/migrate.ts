import type pg from 'pg';
import { MigrationError, pendingMigrations, type AppliedMigration, type Migration } from '../migrations.js';

/** The tracking table, created in whatever schema the transaction's search_path names first. */
const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  checksum    TEXT NOT NULL,
  applied_at  BIGINT NOT NULL
)`;

/** Migrations applied in the current schema (none when the tracking table does not exist). */
export async function appliedMigrations(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (exists.rows[0]?.t === null || exists.rows[0]?.t === undefined) return [];
  const { rows } = await client.query<AppliedMigration>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return rows;
}

/**
 * Applies the pending migrations inside the caller's transaction (Postgres DDL is
 * transactional: a failure rolls every one of them back). The caller holds the advisory lock
 * (or made the schema in this transaction) and has set the search_path. `applied` skips the
 * read when the caller knows it (a schema created just now has none). Returns how many ran.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  files: Migration[],
  where: string,
  applied?: AppliedMigration[],
): Promise<number> {
  if (applied === undefined) await client.query(TRACKING_TABLE);
  const pending = pendingMigrations(files, applied ?? (await appliedMigrations(client)), where);
  for (const m of pending) {
    try {
      // One round trip per migration: the file and its record, as one simple-protocol query
      // (no parameters, so several statements may run). The values are safe to inline: the
      // version is a number, the name matches [a-z0-9_]+ (loadMigrations) and the checksum is hex.
      await client.query(
        `${m.sql}\n;\nINSERT INTO schema_migrations (version, name, checksum, applied_at) ` +
          `VALUES (${m.version}, '${m.name}', '${m.checksum}', ${Date.now()})`,
      );
    } catch (error) {
      throw new MigrationError(`${where}: migration ${m.version} (${m.name}) failed: ${(error as Error).message}`);
    }
  }
  return pending.length;
}

/** The tracking table's DDL, for callers that batch it with other statements. */
export const TRACKING_TABLE_DDL = TRACKING_TABLE;

/** Runs `fn` in a transaction on one pooled client; ROLLBACK on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // A client that cannot even roll back is dropped instead of returned to the pool.
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
