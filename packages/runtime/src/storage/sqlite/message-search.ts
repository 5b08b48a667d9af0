import { sql } from 'kysely';
import { messageHitFromRow, type MessageHitRow, type MessageSearch } from '../kysely/conversation-repositories.js';
import { indexPendingMessages } from './fts-indexer.js';

/**
 * SQLite-specific: FTS5 over `messages_fts`. Each term becomes a quoted string literal (inner
 * quotes doubled), so nothing a user types is read as FTS syntax; terms are ANDed. Messages still
 * queued for indexing are indexed first, so a search sees every stored message.
 */
export const searchMessagesFts5: MessageSearch = async (db, terms, agentId, limit) => {
  if (terms.length === 0) return [];
  await indexPendingMessages(db);
  const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
  const agentFilter = agentId === undefined ? sql`` : sql`AND c.agent_id = ${agentId}`;
  const result = await sql<MessageHitRow>`SELECT m.id, m.conversation_id, c.agent_id, m.role, m.content, m.created_at
       FROM messages_fts f
       JOIN messages m ON m.rowid = f.rowid
       JOIN conversations c ON c.id = m.conversation_id
      WHERE messages_fts MATCH ${match} ${agentFilter}
      ORDER BY m.id DESC
      LIMIT ${limit}`.execute(db);
  return result.rows.map(messageHitFromRow);
};
