import { chmodSync, chownSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { backupData, restoreBackup } from '../backup/backup-data.js';
import { loadConfig } from '../config/load.js';
import { writeFileDurably } from './durable-fs.js';
import type { Layout } from './layout.js';
import { runCommand, type ServiceEnv } from './service-env.js';
import { UpdateError } from './update-error.js';

/** `backup-info.json`, written last into a backup folder: a folder without it is incomplete. */
export interface BackupInfo {
  /** The release whose data this is. */
  release: string;
  createdAt: string;
  storage: 'sqlite' | 'postgres';
  /** What the folder holds: `data/` (SQLite), `postgres.dump`, `etc/` (a copy of /etc/agentik-os). */
  contents: ('data' | 'postgres.dump' | 'etc')[];
}

export const BACKUP_INFO = 'backup-info.json';

/** Whether `pg_dump` (or another program) is on PATH. */
export function onPath(program: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, program)));
}

/**
 * Refuses, before anything stops, an update that could not be backed up: a Postgres site
 * without `pg_dump`, unless the operator says they have their own backup.
 */
export function checkBackupPossible(svc: ServiceEnv, noBackup: boolean): void {
  if (svc.storage === 'postgres' && !noBackup && !onPath('pg_dump', svc.env)) {
    throw new UpdateError(
      'UPDATE_BACKUP_REFUSED',
      'AGENTIK_STORAGE=postgres and pg_dump is not on PATH: install the PostgreSQL client tools so the updater can back the database up before migrating, or pass --no-backup-i-have-my-own after taking your own backup',
    );
  }
}

/**
 * Copies a folder with each entry's mode and (as root) owner: /etc/agentik-os holds
 * agentik.env as 0640 root:agentik, and a copy owned by root alone would lock the service out.
 */
export function copyTree(from: string, to: string): void {
  const stat = lstatSync(from);
  if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (stat.isDirectory()) {
    mkdirSync(to, { mode: stat.mode & 0o7777 });
    for (const name of readdirSync(from)) copyTree(path.join(from, name), path.join(to, name));
  } else copyFileSync(from, to);
  if (!stat.isSymbolicLink()) chmodSync(to, stat.mode & 0o7777);
  if (process.getuid!() === 0) lchownSync(to, stat.uid, stat.gid);
}

/** Gives the data folder's entries (not the updater's own folder) back to the service user. */
export function chownData(svc: ServiceEnv): void {
  if (process.getuid!() !== 0) return;
  const walk = (p: string) => {
    const stat = lstatSync(p);
    if (stat.uid !== svc.owner.uid || stat.gid !== svc.owner.gid) chownSync(p, svc.owner.uid, svc.owner.gid);
    if (stat.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
  };
  if (!existsSync(svc.dataDir)) return;
  for (const name of readdirSync(svc.dataDir)) if (name !== 'updates') walk(path.join(svc.dataDir, name));
}

/**
 * Backs up what an update could damage, with the service stopped: the data (SQLite through the
 * same code as `agentik backup`: VACUUM INTO copies checked with integrity_check; Postgres with
 * pg_dump as `pgUrl`, which must be a role that can read every tenant schema: the runtime's own
 * login role cannot, by design), and a copy of /etc/agentik-os.
 */
export async function takeBackup(
  layout: Layout,
  svc: ServiceEnv,
  dir: string,
  release: string,
  version: string,
  noBackup: boolean,
  pgUrl = svc.databaseUrl,
): Promise<BackupInfo> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const contents: BackupInfo['contents'] = [];
  try {
    copyTree(layout.etcDir, path.join(dir, 'etc'));
    contents.push('etc');
    if (svc.storage === 'sqlite') {
      if (existsSync(path.join(svc.dataDir, 'master.db'))) {
        backupData(loadConfig(svc.env), path.join(dir, 'data'), version);
        contents.push('data');
      }
    } else if (!noBackup) {
      const result = await runCommand('pg_dump', ['--format=custom', `--file=${path.join(dir, 'postgres.dump')}`, pgUrl ?? ''], { env: svc.env });
      if (result.code !== 0) throw new Error(`pg_dump failed (exit ${result.code}): ${result.output}`);
      contents.push('postgres.dump');
    }
  } catch (error) {
    throw new UpdateError('UPDATE_BACKUP_FAILED', `backup before migrating failed: ${(error as Error).message}`);
  } finally {
    chownData(svc);
  }
  const info: BackupInfo = { release, createdAt: new Date().toISOString(), storage: svc.storage, contents };
  writeFileDurably(path.join(dir, BACKUP_INFO), `${JSON.stringify(info, null, 2)}\n`, 0o600);
  return info;
}

export function readBackupInfo(dir: string): BackupInfo | undefined {
  const file = path.join(dir, BACKUP_INFO);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BackupInfo) : undefined;
}

/**
 * Puts a backup back, with the service stopped: /etc/agentik-os replaced by its copy, the data
 * restored (the data that was there is moved into the backup folder, kept until the next
 * committed update). Safe to run again after an interruption.
 */
export async function restoreFromBackup(layout: Layout, svc: ServiceEnv, dir: string, pgUrl = svc.databaseUrl): Promise<void> {
  const info = readBackupInfo(dir);
  if (!info) throw new UpdateError('UPDATE_RESTORE_FAILED', `the backup ${dir} is incomplete (no ${BACKUP_INFO})`);
  try {
    if (info.contents.includes('etc')) {
      const aside = `${layout.etcDir}.restore-${process.pid}`;
      rmSync(aside, { recursive: true, force: true });
      if (existsSync(layout.etcDir)) renameSync(layout.etcDir, aside);
      copyTree(path.join(dir, 'etc'), layout.etcDir);
      rmSync(aside, { recursive: true, force: true });
    }
    if (info.contents.includes('data')) {
      const result = restoreBackup(loadConfig(svc.env), path.join(dir, 'data'), { force: true });
      if (result.setAside) renameSync(result.setAside, path.join(dir, `replaced-${path.basename(result.setAside)}`));
    }
    if (info.contents.includes('postgres.dump')) {
      const result = await runCommand('pg_restore', ['--clean', '--if-exists', '--single-transaction', `--dbname=${pgUrl ?? ''}`, path.join(dir, 'postgres.dump')], {
        env: svc.env,
      });
      if (result.code !== 0) throw new Error(`pg_restore failed (exit ${result.code}): ${result.output}`);
    }
    chownData(svc);
  } catch (error) {
    if (error instanceof UpdateError) throw error;
    throw new UpdateError('UPDATE_RESTORE_FAILED', `restoring the backup ${dir} failed: ${(error as Error).message}`);
  }
}
