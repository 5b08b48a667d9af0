import type { Config } from '../config/schema.js';
import { BackupError, backupSqliteData, restoreSqliteBackup, type BackupManifest, type RestoreResult } from './sqlite-backup.js';

/** What an operator with Postgres is told to use instead: the database is theirs to dump. */
export const POSTGRES_BACKUP_HINT =
  'with AGENTIK_STORAGE=postgres the data lives in the database: back it up with ' +
  'pg_dump --format=custom --file=agentik.dump "$AGENTIK_DATABASE_URL" (as a role that can read every tenant schema), ' +
  'and keep AGENTIK_ENCRYPTION_KEY with it';

/**
 * `agentik backup`: a consistent, checked copy of the embedded data while the server runs.
 * The offline updater backs up through here too, before it migrates.
 */
export function backupData(config: Config, outDir: string, runtimeVersion: string): BackupManifest {
  if (config.storage === 'postgres') throw new BackupError(POSTGRES_BACKUP_HINT);
  return backupSqliteData(config.dataDir, outDir, runtimeVersion);
}

/** `agentik restore`: puts a backup back into the configured data folder (server stopped). */
export function restoreBackup(config: Config, backupDir: string, options: { force?: boolean } = {}): RestoreResult {
  if (config.storage === 'postgres') throw new BackupError(`restore a Postgres backup with pg_restore; ${POSTGRES_BACKUP_HINT}`);
  return restoreSqliteBackup(backupDir, config.dataDir, options);
}
