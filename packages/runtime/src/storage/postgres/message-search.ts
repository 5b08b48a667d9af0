import { sql } from 'kysely';
import { messageHitFromRow, type MessageHitRow, type MessageSearch } from '../kysely/conversation-repositories.js';

/**
 * Postgres-specific: full-text search with the `simple` configuration (lower-cased words, no
 * stemming, close to SQLite's unicode61 tokenizer). `plainto_tsquery` reads the terms as plain
 * words ANDed together, so nothing a user types is parsed as tsquery syntax. The expression
 * `to_tsvector('simple', content)` matches the GIN index of the tenant migration exactly.
 */
export const searchMessagesTsvector: MessageSearch = async (db, terms, agentId, limit) => {
  if (terms.length === 0) return [];
  const agentFilter = agentId === undefined ? sql`` : sql`AND c.agent_id = ${agentId}`;
  const result = await sql<MessageHitRow>`SELECT m.id, m.conversation_id, c.agent_id, m.role, m.content, m.created_at
       FROM messages m
       JOIN conversations c ON c.id = m.conversation_id
      WHERE to_tsvector('simple', m.content) @@ plainto_tsquery('simple', ${terms.join(' ')}) ${agentFilter}
      ORDER BY m.id DESC
      LIMIT ${limit}`.execute(db);
  return result.rows.map(messageHitFromRow);
};
