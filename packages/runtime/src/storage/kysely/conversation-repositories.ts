import type { Kysely } from 'kysely';
import { compileOnce, kyselyRunner, type QueryRunner } from './compiled-query.js';
import type { ConversationRepository, MessageRepository } from '../port.js';
import type { ConversationRecord, MessageHit, MessageRecord } from '../records.js';
import { toPage } from './paging.js';
import type { ConversationsTable, MessagesTable, TenantDb } from './tables.js';

/** Full-text search is dialect-specific (FTS5, tsvector); each adapter supplies its own. */
export type MessageSearch = (
  db: Kysely<TenantDb>,
  terms: string[],
  agentId: string | undefined,
  limit: number,
) => Promise<MessageHit[]>;

/** The columns both dialects' searches select, in this order: id, conversation, agent, role, text, time. */
export interface MessageHitRow {
  id: string;
  conversation_id: string;
  agent_id: string;
  role: string;
  content: string;
  created_at: number;
}

export function messageHitFromRow(r: MessageHitRow): MessageHit {
  return {
    messageId: r.id,
    conversationId: r.conversation_id,
    agentId: r.agent_id,
    role: r.role as MessageHit['role'],
    content: r.content,
    createdAt: Number(r.created_at),
  };
}

export function conversationFromRow(r: ConversationsTable): ConversationRecord {
  return {
    id: r.id,
    agentId: r.agent_id,
    userId: r.user_id,
    source: r.source as ConversationRecord['source'],
    title: r.title,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function messageFromRow(r: MessagesTable): MessageRecord {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    role: r.role as MessageRecord['role'],
    content: r.content,
    tokens: r.tokens === null ? null : Number(r.tokens),
    createdAt: Number(r.created_at),
  };
}

const createConversation = compileOnce(
  (db: Kysely<TenantDb>, id: string, agentId: string, userId: string | null, source: string, createdAt: number, updatedAt: number) =>
    db.insertInto('conversations').values({
      id,
      agent_id: agentId,
      user_id: userId,
      source,
      created_at: createdAt,
      updated_at: updatedAt,
    }),
);
const touchConversation = compileOnce((db: Kysely<TenantDb>, id: string, at: number) =>
  db.updateTable('conversations').set({ updated_at: at }).where('id', '=', id),
);

export function createConversationRepository(db: Kysely<TenantDb>, runner: QueryRunner): ConversationRepository {
  return {
    async create(c) {
      await runner.write(db, createConversation(db, c.id, c.agentId, c.userId, c.source, c.createdAt, c.updatedAt));
    },
    async get(id) {
      const row = await db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && conversationFromRow(row);
    },
    async list(page, agentId) {
      let q = db.selectFrom('conversations').selectAll().orderBy('id').limit(page.limit + 1);
      if (agentId !== undefined) q = q.where('agent_id', '=', agentId);
      if (page.after !== undefined) q = q.where('id', '>', page.after);
      return toPage(await q.execute(), page, conversationFromRow);
    },
    async delete(id) {
      // Messages go first so that stores without ON DELETE CASCADE behave the same.
      await db.deleteFrom('messages').where('conversation_id', '=', id).execute();
      const result = await db.deleteFrom('conversations').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async touch(id, at) {
      await runner.write(db, touchConversation(db, id, at));
    },
    async rename(id, title) {
      const result = await db.updateTable('conversations').set({ title }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

const appendMessage = compileOnce(
  (db: Kysely<TenantDb>, id: string, conversationId: string, role: string, content: string, tokens: number | null, createdAt: number) =>
    db.insertInto('messages').values({ id, conversation_id: conversationId, role, content, tokens, created_at: createdAt }),
);
const lastUserTurn = (db: Kysely<TenantDb>, conversationId: string) =>
  db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('role', '=', 'user')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();

/**
 * Regenerate, in one transaction (the caller's, else its own): the conversation's row is locked
 * first (a no-op update: Postgres's row lock, SQLite's write lock), so a turn or another
 * replacement committed meanwhile is seen by the check that follows; then, when `userMessageId`
 * is still the last user turn, the turns after it go and `reply` takes their place.
 */
async function replaceReplies(db: Kysely<TenantDb>, runner: QueryRunner, userMessageId: string, reply: MessageRecord): Promise<boolean> {
  const run = async (tx: Kysely<TenantDb>, runner: QueryRunner) => {
    const locked = await tx
      .updateTable('conversations')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('id', '=', reply.conversationId)
      .executeTakeFirst();
    if (Number(locked.numUpdatedRows) === 0) return false;
    if ((await lastUserTurn(tx, reply.conversationId))?.id !== userMessageId) return false;
    await tx.deleteFrom('messages').where('conversation_id', '=', reply.conversationId).where('id', '>', userMessageId).execute();
    await runner.write(tx, appendMessage(tx, reply.id, reply.conversationId, reply.role, reply.content, reply.tokens, reply.createdAt));
    await runner.write(tx, touchConversation(tx, reply.conversationId, reply.createdAt));
    return true;
  };
  // A transaction of its own runs through Kysely's executor, like any root-store transaction.
  return db.isTransaction ? run(db, runner) : db.transaction().execute((tx) => run(tx, kyselyRunner));
}

const recentMessages = compileOnce((db: Kysely<TenantDb>, conversationId: string, limit: number) =>
  db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('id', 'desc').limit(limit),
);

export function createMessageRepository(db: Kysely<TenantDb>, search: MessageSearch, runner: QueryRunner): MessageRepository {
  return {
    async append(m) {
      await runner.write(db, appendMessage(db, m.id, m.conversationId, m.role, m.content, m.tokens, m.createdAt));
    },
    async listByConversation(conversationId) {
      const rows = await db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('id')
        .execute();
      return rows.map(messageFromRow);
    },
    async recent(conversationId, limit) {
      const rows = await runner.read(db, recentMessages(db, conversationId, limit));
      return rows.reverse().map(messageFromRow);
    },
    async lastUserTurn(conversationId) {
      const row = await lastUserTurn(db, conversationId);
      return row && messageFromRow(row);
    },
    replaceReplies(userMessageId, reply) {
      if (reply.id <= userMessageId) throw new Error('replaceReplies: the reply must come after the user turn');
      return replaceReplies(db, runner, userMessageId, reply);
    },
    search(terms, agentId, limit) {
      return search(db, terms, agentId, limit);
    },
  };
}
