import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { bundledSqlite } from '../../lib/release-root.js';
import { MigrationError, pendingMigrations, type AppliedMigration, type Migration } from '../migrations.js';

type Db = Database.Database;

let bundledAddon: object | undefined;

/**
 * The standalone executable's better-sqlite3 addon, loaded by path (its embedded script can only
 * `require` built-in modules, so better-sqlite3 cannot find the addon itself); nothing from a
 * checkout. better-sqlite3 takes the loaded addon object as `nativeBinding`; its type definitions
 * only declare the path form.
 */
function nativeBinding(): Pick<Database.Options, 'nativeBinding'> {
  const bundled = bundledSqlite();
  if (bundled === undefined) return {};
  bundledAddon ??= createRequire(bundled.addon)(bundled.addon) as object;
  return { nativeBinding: bundledAddon as unknown as string };
}

/**
 * `new Database(file, options)` with the addon this process must use: the one beside the
 * standalone executable, or the installed package's. Every SQLite file outside the stores (the
 * backup copies) is opened through here too.
 */
export function openRawDatabase(file: string, options: Database.Options = {}): Db {
  return new Database(file, { ...options, ...nativeBinding() });
}

/**
 * Opens a SQLite file the way every store here wants it: WAL, foreign keys on, and a busy timeout
 * so that a second process (the CLI beside a running server) waits instead of failing.
 * synchronous=NORMAL in WAL mode survives a process crash; only an OS crash can lose the last
 * commits.
 */
export function openDatabase(file: string, mustExist: boolean): Db {
  const db = openRawDatabase(file, { fileMustExist: mustExist });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Most prepared statements kept per database by {@link withStatementCache}. */
const STATEMENT_CACHE_SIZE = 256;

/** A database whose `prepare` hands out cached statements (see {@link withStatementCache}). */
export interface CachedDatabase extends SqliteDatabase {
  prepare(sql: string): Database.Statement<unknown[]>;
}

/**
 * The database as Kysely's SQLite dialect sees it, with prepared statements cached by SQL text.
 * The compiled queries that run directly (`directAccess` in `backend.ts`) take theirs from the same cache.
 * Kysely's driver calls `prepare` for every query, and compiling a statement (the inserts into
 * `messages` compile their FTS5 triggers too) was about a tenth of a message's CPU time; Kysely
 * emits the same text for the same query shape, so nearly every query after the first reuses its
 * statement. Safe because Kysely runs one query at a time per connection (its connection mutex),
 * never changes a statement's modes (raw, pluck, safeIntegers), and better-sqlite3 resets a
 * statement before each run; SQLite re-prepares a cached statement itself after a schema change.
 * The cache is bounded (oldest entry out first) for query shapes that vary, such as `in (?, ?)`
 * lists; `close` closes the database, which finalizes every statement.
 */
export function withStatementCache(db: Db, max = STATEMENT_CACHE_SIZE): CachedDatabase {
  const statements = new Map<string, Database.Statement<unknown[]>>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        if (statements.size >= max) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      db.close();
    },
  };
}

const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  checksum    TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
) STRICT`;

function applied(db: Db): AppliedMigration[] {
  db.exec(TRACKING_TABLE);
  return db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as AppliedMigration[];
}

/** Applies the pending migrations, each in its own transaction; returns how many ran. */
export function migrateDatabase(db: Db, files: Migration[], where: string): number {
  const pending = pendingMigrations(files, applied(db), where);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  for (const m of pending) {
    try {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.version, m.name, m.checksum, Date.now());
      })();
    } catch (error) {
      throw new MigrationError(`${where}: migration ${m.version} (${m.name}) failed: ${(error as Error).message}`);
    }
  }
  return pending.length;
}

/** How many migrations are still to apply (throws when an applied one was edited). */
export function countPending(db: Db, files: Migration[], where: string): number {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").all();
  if (rows.length === 0) return files.length;
  const done = db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as AppliedMigration[];
  return pendingMigrations(files, done, where).length;
}

/** SQLite reports unique and primary-key violations with these extended codes. */
export function isSqliteUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
