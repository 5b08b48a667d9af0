-- Full-text indexing leaves the request path. FTS5 writes a new index segment at every commit that
-- touched the index, which made indexing two short turns cost about twice as much as storing them.
-- A new message is now only queued here, by its rowid, and the runtime indexes the queue in
-- batches shortly after; a search indexes whatever is still queued before it reads, so it always
-- sees every stored message.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;

CREATE TABLE messages_fts_pending (
  message_rowid  INTEGER PRIMARY KEY
) STRICT;

CREATE TRIGGER messages_fts_queue AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts_pending (message_rowid) VALUES (new.rowid);
END;

-- A deleted message leaves the index if it was indexed, else the queue. (An external-content
-- index must never be told to delete a row it does not hold: that corrupts it.)
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content)
    SELECT 'delete', old.rowid, old.content
     WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE message_rowid = old.rowid);
  DELETE FROM messages_fts_pending WHERE message_rowid = old.rowid;
END;
