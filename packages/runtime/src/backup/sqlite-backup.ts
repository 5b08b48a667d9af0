import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openRawDatabase } from '../storage/sqlite/open-database.js';

/** The file that describes a backup folder; written last, so a folder without it is incomplete. */
export const BACKUP_MANIFEST = 'backup.json';
const FORMAT = 'agentik-backup';
const FORMAT_VERSION = 1;

/** One file of a backup, relative to the backup folder. */
export interface BackupFile {
  /** `master.db`, `tenants/<id>.db` or `encryption.key`. */
  path: string;
  size: number;
  sha256: string;
}

/** What `backup.json` holds. */
export interface BackupManifest {
  format: typeof FORMAT;
  formatVersion: number;
  /** The runtime version that wrote it. */
  runtimeVersion: string;
  storage: 'sqlite';
  createdAt: string;
  /** Live tenants in the master copy; each has its file in `files`. */
  tenants: number;
  files: BackupFile[];
}

/** A backup or restore that cannot go ahead; the message says why and what to do. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** Tenant ids become file names; the backend checks them the same way. */
const SAFE_ID = /^[a-z0-9_]{1,64}$/;
const SAFE_FILE = /^(master\.db|encryption\.key|tenants\/[a-z0-9_]{1,64}\.db)$/;

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function fileEntry(dir: string, rel: string): BackupFile {
  const file = path.join(dir, rel);
  return { path: rel, size: statSync(file).size, sha256: sha256File(file) };
}

/** `PRAGMA integrity_check` on a file, read-only; throws a BackupError naming the file. */
function checkIntegrity(file: string, label: string): void {
  let verdict: string;
  try {
    const db = openRawDatabase(file, { readonly: true, fileMustExist: true });
    try {
      verdict = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    } finally {
      db.close();
    }
  } catch (error) {
    // A file damaged badly enough fails before the check can report (SQLITE_CORRUPT, SQLITE_NOTADB).
    verdict = (error as Error).message;
  }
  if (verdict !== 'ok') throw new BackupError(`${label} failed its integrity check: ${verdict}`);
}

/**
 * A consistent copy of one live SQLite file: `VACUUM INTO` reads one snapshot of the database
 * (WAL included) while the server goes on writing, and the busy timeout waits out a writer that
 * holds the lock. The copy is then checked on its own.
 */
function snapshot(source: string, target: string, label: string): void {
  try {
    const db = openRawDatabase(source, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      db.prepare('VACUUM INTO ?').run(target);
    } finally {
      db.close();
    }
  } catch (error) {
    throw new BackupError(`could not copy ${label}: ${(error as Error).message}`);
  }
  chmodSync(target, 0o600);
  checkIntegrity(target, label);
}

/** An output folder that does not exist yet, or an empty one. */
function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new BackupError(`${outDir} exists and is not a folder`);
    if (readdirSync(outDir).length > 0) throw new BackupError(`${outDir} is not empty: give a new or empty folder`);
  }
  mkdirSync(path.join(outDir, 'tenants'), { recursive: true, mode: 0o700 });
}

/**
 * Backs up the embedded data folder while the server runs: the master store first, then the file
 * of every tenant that master copy lists as live (so the copy never names a tenant it lacks),
 * `encryption.key` when the folder has one (tenant provider keys cannot be read without it), and
 * `backup.json` last. Every copy passes `integrity_check`. A failure removes what was written.
 */
export function backupSqliteData(dataDir: string, outDir: string, runtimeVersion: string, now = new Date()): BackupManifest {
  const master = path.join(dataDir, 'master.db');
  if (!existsSync(master)) throw new BackupError(`no master.db in ${dataDir}: is AGENTIK_DATA_DIR right?`);
  prepareOutDir(outDir);
  try {
    snapshot(master, path.join(outDir, 'master.db'), 'master.db');
    const copy = openRawDatabase(path.join(outDir, 'master.db'), { readonly: true });
    let ids: string[];
    try {
      ids = (copy.prepare("SELECT id FROM tenants WHERE status <> 'deleted' ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    } finally {
      copy.close();
    }
    const files = [fileEntry(outDir, 'master.db')];
    for (const id of ids) {
      if (!SAFE_ID.test(id)) throw new BackupError(`master.db lists a tenant with an invalid id: ${JSON.stringify(id)}`);
      const rel = `tenants/${id}.db`;
      const source = path.join(dataDir, rel);
      if (!existsSync(source)) throw new BackupError(`tenant ${id} is live in master.db but ${rel} is missing from ${dataDir}`);
      snapshot(source, path.join(outDir, rel), rel);
      files.push(fileEntry(outDir, rel));
    }
    const keyFile = path.join(dataDir, 'encryption.key');
    if (existsSync(keyFile)) {
      copyFileSync(keyFile, path.join(outDir, 'encryption.key'));
      chmodSync(path.join(outDir, 'encryption.key'), 0o600);
      files.push(fileEntry(outDir, 'encryption.key'));
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      runtimeVersion,
      storage: 'sqlite',
      createdAt: now.toISOString(),
      tenants: ids.length,
      files,
    };
    writeFileSync(path.join(outDir, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return manifest;
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    throw error;
  }
}

/** Reads and checks a backup folder: its manifest, every file's size and sha256, every database's integrity. */
export function verifyBackup(backupDir: string): BackupManifest {
  const file = path.join(backupDir, BACKUP_MANIFEST);
  if (!existsSync(file)) throw new BackupError(`${backupDir} has no ${BACKUP_MANIFEST}: not a backup, or an incomplete one`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as BackupManifest;
  } catch {
    throw new BackupError(`${file} is not valid JSON`);
  }
  if (manifest.format !== FORMAT || manifest.formatVersion !== FORMAT_VERSION || manifest.storage !== 'sqlite' || !Array.isArray(manifest.files)) {
    throw new BackupError(`${file} is not an Agentik OS SQLite backup of format ${FORMAT_VERSION}`);
  }
  const seen = new Set<string>();
  for (const entry of manifest.files) {
    if (typeof entry?.path !== 'string' || !SAFE_FILE.test(entry.path) || seen.has(entry.path)) {
      throw new BackupError(`${file} lists an unexpected file: ${JSON.stringify(entry?.path)}`);
    }
    seen.add(entry.path);
    const at = path.join(backupDir, entry.path);
    if (!existsSync(at)) throw new BackupError(`${entry.path} is missing from the backup`);
    const actual = fileEntry(backupDir, entry.path);
    if (actual.size !== entry.size || actual.sha256 !== entry.sha256) throw new BackupError(`${entry.path} does not match its checksum in ${BACKUP_MANIFEST}`);
    if (entry.path.endsWith('.db')) checkIntegrity(at, entry.path);
  }
  if (!seen.has('master.db')) throw new BackupError(`${file} lists no master.db`);
  return manifest;
}

/** What a restore did. */
export interface RestoreResult {
  manifest: BackupManifest;
  /** Where the data that was there before went (`--force`), or null when the folder held none. */
  setAside: string | null;
}

/**
 * Restores a verified backup into a data folder, for a server that is stopped. The files are
 * staged inside the data folder and moved into place with renames; data already there is refused
 * unless `force`, and then set aside in `pre-restore-<time>/`, never deleted.
 */
export function restoreSqliteBackup(backupDir: string, dataDir: string, options: { force?: boolean; now?: Date } = {}): RestoreResult {
  const manifest = verifyBackup(backupDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const present = ['master.db', 'tenants', 'encryption.key'].filter((name) => existsSync(path.join(dataDir, name)));
  if (present.length > 0 && !options.force) {
    throw new BackupError(`${dataDir} already holds data (${present.join(', ')}): restore into an empty folder, or pass --force to set it aside`);
  }
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const staging = path.join(dataDir, `.restore-${stamp}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'tenants'), { recursive: true, mode: 0o700 });
  for (const entry of manifest.files) {
    copyFileSync(path.join(backupDir, entry.path), path.join(staging, entry.path));
    chmodSync(path.join(staging, entry.path), 0o600);
  }
  let setAside: string | null = null;
  if (present.length > 0) {
    setAside = path.join(dataDir, `pre-restore-${stamp}`);
    mkdirSync(setAside, { mode: 0o700 });
    for (const name of [...present, 'master.db-wal', 'master.db-shm']) {
      if (existsSync(path.join(dataDir, name))) renameSync(path.join(dataDir, name), path.join(setAside, name));
    }
  }
  for (const name of ['master.db', 'tenants', 'encryption.key']) {
    if (existsSync(path.join(staging, name))) renameSync(path.join(staging, name), path.join(dataDir, name));
  }
  rmSync(staging, { recursive: true, force: true });
  return { manifest, setAside };
}
