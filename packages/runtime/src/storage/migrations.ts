import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUpwards, releaseRoot } from '../lib/release-root.js';

/** One numbered SQL migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 of the file's bytes, hex. */
  checksum: string;
}

/** A migration as recorded in a database's `schema_migrations` table. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `dir`'s numbered `.sql` files in order; anything else in it is an error. */
export function loadMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder ${dir} does not exist`);
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = FILE.exec(file);
    if (!match) throw new MigrationError(`unexpected file ${file} in ${dir}: migrations are NNNN_name.sql`);
    const bytes = readFileSync(path.join(dir, file));
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new MigrationError(`two migrations in ${dir} have number ${match[1]}`);
    }
    migrations.push({
      version,
      name: match[2]!,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Compares what a database has applied with the files, and returns what is still to apply.
 * An applied migration whose file changed, or that has no file, stops everything: silently
 * running on a schema that differs from the code is how data gets corrupted.
 */
export function pendingMigrations(files: Migration[], applied: AppliedMigration[], where: string): Migration[] {
  const byVersion = new Map(files.map((m) => [m.version, m]));
  for (const a of applied) {
    const file = byVersion.get(a.version);
    const label = `${String(a.version).padStart(4, '0')}_${a.name}`;
    if (!file) {
      throw new MigrationError(`${where}: migration ${label} is applied but this release has no such file`);
    }
    if (file.checksum !== a.checksum) {
      throw new MigrationError(
        `${where}: migration ${label} was edited after it was applied ` +
          `(checksum ${a.checksum.slice(0, 12)} applied, ${file.checksum.slice(0, 12)} on disk); ` +
          'restore the original file and add a new migration instead',
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return files.filter((m) => !done.has(m.version));
}

/** The master and tenant migration sets of one backend. */
export interface MigrationSets {
  master: Migration[];
  tenant: Migration[];
}

/** Loads `<root>/master` and `<root>/tenant`. */
export function loadMigrationSets(root: string): MigrationSets {
  return { master: loadMigrations(path.join(root, 'master')), tenant: loadMigrations(path.join(root, 'tenant')) };
}

/**
 * Finds `backends/<backend>/migrations`: in the offline bundle's release folder when running as
 * its standalone executable, else by walking up from this module, so the same code works from
 * `src/` under Vitest and from `dist/`.
 */
export function defaultMigrationsRoot(backend: 'sqlite' | 'postgres'): string {
  const relative = path.join('backends', backend, 'migrations');
  const root = releaseRoot();
  const found = root !== undefined ? path.join(root, relative) : findUpwards(path.dirname(fileURLToPath(import.meta.url)), relative);
  if (found === undefined || !existsSync(found)) throw new MigrationError(`cannot find ${relative}`);
  return found;
}
