import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import type { TenantDb } from '../kysely/tables.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import type { StorageBackend, TenantStore, TenantStoreHandle } from '../port.js';
import { openSqliteBackend } from './backend.js';
import { FtsIndexer, indexPendingMessages } from './fts-indexer.js';
import { migrateDatabase, openDatabase } from './open-database.js';

const migrations = loadMigrationSets(defaultMigrationsRoot('sqlite'));
let dataDir: string;
let backend: StorageBackend;
const handles: TenantStoreHandle[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-fts-'));
  backend = openSqliteBackend({ dataDir, migrations });
});
afterEach(async () => {
  while (handles.length > 0) await handles.pop()!.close();
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function tenant(): Promise<{ id: string; store: TenantStore; raw: Database.Database }> {
  const id = newId('tenant');
  await backend.provisionTenant(id);
  const handle = await backend.openTenant(id);
  handles.push(handle);
  // A second connection to the same file, to look at the queue and the index directly.
  const raw = new Database(path.join(dataDir, 'tenants', `${id}.db`), { readonly: true });
  const closeRaw = { store: handle.store, close: async () => raw.close() };
  handles.push(closeRaw);
  return { id, store: handle.store, raw };
}

async function conversationWith(store: TenantStore, texts: string[]): Promise<string> {
  const conversationId = newId('conversation');
  await store.transaction(async (tx) => {
    await tx.conversations.create({ id: conversationId, agentId: 'ag_1', userId: null, source: 'api', createdAt: 1, updatedAt: 1 });
    for (const content of texts) {
      await tx.messages.append({ id: newId('message'), conversationId, role: 'user', content, tokens: null, createdAt: 1 });
    }
  });
  return conversationId;
}

const queued = (raw: Database.Database) => (raw.prepare('SELECT count(*) AS n FROM messages_fts_pending').get() as { n: number }).n;
const indexed = (raw: Database.Database) => (raw.prepare('SELECT count(*) AS n FROM messages_fts_docsize').get() as { n: number }).n;
/** FTS5's own consistency check of an external-content index against its table; throws if corrupt. */
const integrityCheck = (file: string) => {
  const db = new Database(file);
  try {
    db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
  } finally {
    db.close();
  }
};

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('full-text indexing off the request path', () => {
  it('queues new messages, then indexes them in the background shortly after', async () => {
    const { store, raw } = await tenant();
    await conversationWith(store, ['the quick brown fox', 'jumps over the lazy dog']);
    expect(queued(raw)).toBe(2);
    expect(indexed(raw)).toBe(0);
    await until(() => queued(raw) === 0);
    expect(indexed(raw)).toBe(2);
    expect((await store.messages.search(['lazy'], undefined, 10)).map((h) => h.content)).toEqual(['jumps over the lazy dog']);
  });

  it('a search indexes what is still queued first, so it sees every stored message', async () => {
    const { store, raw } = await tenant();
    await conversationWith(store, ['parrots can talk']);
    expect(queued(raw)).toBe(1);
    expect((await store.messages.search(['parrots'], undefined, 10)).map((h) => h.content)).toEqual(['parrots can talk']);
    expect(queued(raw)).toBe(0);
  });

  it('deletes queued and indexed messages alike without corrupting the index, and reused rowids are indexed', async () => {
    const { id, store, raw } = await tenant();
    const indexedConversation = await conversationWith(store, ['apples are red', 'apples are green']);
    await store.messages.search(['apples'], undefined, 10);
    const queuedConversation = await conversationWith(store, ['bananas are yellow']);
    expect(queued(raw)).toBe(1);
    expect(await store.conversations.delete(queuedConversation)).toBe(true);
    expect(await store.conversations.delete(indexedConversation)).toBe(true);
    expect(queued(raw)).toBe(0);
    expect(indexed(raw)).toBe(0);
    const file = path.join(dataDir, 'tenants', `${id}.db`);
    integrityCheck(file);
    // The table is empty again, so SQLite hands out the same rowids: they must be indexed anew.
    await conversationWith(store, ['cherries are dark']);
    expect((await store.messages.search(['apples'], undefined, 10))).toEqual([]);
    expect((await store.messages.search(['bananas'], undefined, 10))).toEqual([]);
    expect((await store.messages.search(['cherries'], undefined, 10)).map((h) => h.content)).toEqual(['cherries are dark']);
    integrityCheck(file);
  });

  it('indexes a long queue in bounded batches, one after another', async () => {
    const { id, store, raw } = await tenant();
    await conversationWith(
      store,
      Array.from({ length: 25 }, (_, i) => `message number ${i}`),
    );
    const file = path.join(dataDir, 'tenants', `${id}.db`);
    const db = openDatabase(file, true);
    const kysely = new Kysely<TenantDb>({ dialect: new SqliteDialect({ database: db }) });
    try {
      expect(await indexPendingMessages(kysely, 10)).toBe(10);
      expect(queued(raw)).toBe(15);
      const indexer = new FtsIndexer(kysely, undefined, 0, 10);
      indexer.schedule();
      await until(() => queued(raw) === 0);
      await indexer.close();
      expect(indexed(raw)).toBe(25);
      expect(await indexPendingMessages(kysely)).toBe(0);
    } finally {
      await kysely.destroy();
    }
    integrityCheck(file);
  });

  it('reports a run that failed', async () => {
    const db = openDatabase(path.join(dataDir, 'not-a-tenant.db'), false);
    const kysely = new Kysely<TenantDb>({ dialect: new SqliteDialect({ database: db }) });
    const failures: string[] = [];
    const indexer = new FtsIndexer(kysely, (message) => failures.push(message), 0);
    try {
      indexer.schedule();
      await until(() => failures.length === 1);
      expect(failures[0]).toMatch(/no such table/);
    } finally {
      await indexer.close();
      await kysely.destroy();
    }
  });

  it('a store written before the queue existed keeps its index after the upgrade', async () => {
    const id = newId('tenant');
    const file = path.join(dataDir, 'tenants', `${id}.db`);
    const db = openDatabase(file, false);
    migrateDatabase(db, migrations.tenant.filter((m) => m.version <= 2), 'old tenant');
    db.prepare("INSERT INTO conversations (id, agent_id, user_id, source, created_at, updated_at) VALUES ('cv_old', 'ag_1', NULL, 'api', 1, 1)").run();
    db.prepare("INSERT INTO messages (id, conversation_id, role, content, tokens, created_at) VALUES ('msg_old', 'cv_old', 'user', 'an old walrus', NULL, 1)").run();
    db.close();
    const handle = await backend.openTenant(id);
    handles.push(handle);
    expect((await handle.store.messages.search(['walrus'], undefined, 10)).map((h) => h.messageId)).toEqual(['msg_old']);
    expect(await handle.store.conversations.delete('cv_old')).toBe(true);
    integrityCheck(file);
  });
});
