import { copyFileSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import { openSqliteBackend } from './backend.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { openDatabase } from './open-database.js';

let dir: string;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'agentik-checkpoint-'));
});
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
  rmSync(dir, { recursive: true, force: true });
});

/** A WAL database with its own threshold out of the way, so only the checkpointer moves pages. */
function walDatabase(name: string): { file: string; db: Database.Database } {
  const file = path.join(dir, name);
  const db = openDatabase(file, false);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  // The table itself goes into the database file now; the rows written later stay in the WAL.
  db.pragma('wal_checkpoint(TRUNCATE)');
  cleanup.push(() => db.close());
  return { file, db };
}

/** Rows of `notes` found in the database file alone, without its WAL: what checkpoints moved there. */
function rowsInMainFile(file: string): number {
  const copy = path.join(dir, `copy-${newId('message')}.db`);
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n;
  } finally {
    db.close();
    rmSync(copy, { force: true });
  }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function checkpointer(onFailure?: (file: string, message: string) => void): Checkpointer {
  const c = startCheckpointer(onFailure);
  cleanup.push(() => c.close());
  return c;
}

describe('the checkpointer', () => {
  it('moves written pages from the WAL into the database file, off the main thread', async () => {
    const { file, db } = walDatabase('a.db');
    const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
    for (let i = 0; i < 50; i++) insert.run(`note ${i}`);
    // Nothing has checkpointed these rows yet: the database file alone does not have them.
    expect(rowsInMainFile(file)).toBe(0);
    const c = checkpointer();
    c.written(file);
    await until(() => rowsInMainFile(file) === 50);
    // The main connection still reads and writes as before.
    insert.run('after');
    expect((db.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n).toBe(51);
  });

  it('checkpoints only files it was told about', async () => {
    const told = walDatabase('told.db');
    const untold = walDatabase('untold.db');
    for (const { db } of [told, untold]) db.prepare('INSERT INTO notes (body) VALUES (?)').run('x');
    const c = checkpointer();
    c.written(told.file);
    await until(() => rowsInMainFile(told.file) === 1);
    expect(rowsInMainFile(untold.file)).toBe(0);
  });

  it('reports a file it cannot checkpoint, and keeps working', async () => {
    const failures: string[] = [];
    const c = checkpointer((file) => failures.push(path.basename(file)));
    c.written(path.join(dir, 'missing.db'));
    await until(() => failures.length === 1);
    expect(failures).toEqual(['missing.db']);
    expect(existsSync(path.join(dir, 'missing.db'))).toBe(false);
    const { file, db } = walDatabase('b.db');
    db.prepare('INSERT INTO notes (body) VALUES (?)').run('x');
    c.written(file);
    await until(() => rowsInMainFile(file) === 1);
  });

  it('forgets a file before it is removed, and stops on close', async () => {
    const { file, db } = walDatabase('c.db');
    db.prepare('INSERT INTO notes (body) VALUES (?)').run('x');
    const c = checkpointer();
    c.written(file);
    await until(() => rowsInMainFile(file) === 1);
    await c.forget(file);
    await c.forget(path.join(dir, 'never-seen.db'));
    await c.close();
    // After close, writes are ignored and nothing starts again.
    c.written(file);
    await expect(c.forget(file)).resolves.toBeUndefined();
  });
});

describe('tenant stores with the checkpointer', () => {
  it('a deleted tenant leaves no file behind and none held open, though the checkpointer had it open', async () => {
    const backend = openSqliteBackend({ dataDir: dir, migrations: loadMigrationSets(defaultMigrationsRoot('sqlite')) });
    cleanup.push(() => backend.close());
    const id = newId('tenant');
    await backend.provisionTenant(id);
    const handle = await backend.openTenant(id);
    const conversationId = newId('conversation');
    await handle.store.transaction(async (tx) => {
      await tx.conversations.create({ id: conversationId, agentId: 'ag_1', userId: null, source: 'api', createdAt: 1, updatedAt: 1 });
      await tx.messages.append({ id: newId('message'), conversationId, role: 'user', content: 'hello', tokens: null, createdAt: 1 });
    });
    // Wait until the checkpointer has the file open and has checkpointed it.
    const file = path.join(dir, 'tenants', `${id}.db`);
    await until(() => {
      const copy = path.join(dir, 'copy.db');
      copyFileSync(file, copy);
      const db = new Database(copy, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n === 1;
      } finally {
        db.close();
        rmSync(copy, { force: true });
      }
    });
    await handle.close();
    await backend.destroyTenant(id);
    expect(readdirSync(path.join(dir, 'tenants')).filter((f) => f.startsWith(id))).toEqual([]);
    // No descriptor of this process (the worker's included) still holds the removed files, whose
    // disk space would otherwise stay in use.
    const held = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(path.join('/proc/self/fd', fd))];
      } catch {
        return [];
      }
    });
    expect(held.filter((target) => target.includes(id))).toEqual([]);
  });
});
