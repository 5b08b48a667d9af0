-- Opening a conversation lists its cost events; without this index that read scanned every cost
-- event the tenant ever recorded.
CREATE INDEX cost_events_by_conversation ON cost_events (conversation_id, id);
