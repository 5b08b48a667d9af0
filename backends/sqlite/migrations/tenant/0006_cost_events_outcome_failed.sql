-- A run that fails after its model produced output or usage (a stream broken off mid-reply, a later
-- call of the tool loop that failed) is booked with outcome 'failed': the provider bills those
-- tokens whether or not the reply reached the client. SQLite cannot change a CHECK in place: the
-- table is rebuilt with the same columns, its rows copied, and its indexes made again (it has no
-- triggers, and no foreign key points at it).
CREATE TABLE cost_events_new (
  id               TEXT PRIMARY KEY,
  agent_id         TEXT NOT NULL,
  conversation_id  TEXT,
  message_id       TEXT,
  provider         TEXT NOT NULL,
  model            TEXT NOT NULL,
  input_tokens     INTEGER,
  output_tokens    INTEGER,
  cost_usd         REAL,
  latency_ms       INTEGER NOT NULL,
  outcome          TEXT NOT NULL CHECK (outcome IN ('ok', 'aborted', 'failed')),
  usage_estimated  INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  usage_anomaly    TEXT CHECK (usage_anomaly IN ('over_bound', 'invalid'))
) STRICT;

INSERT INTO cost_events_new (id, agent_id, conversation_id, message_id, provider, model, input_tokens, output_tokens,
                             cost_usd, latency_ms, outcome, usage_estimated, created_at, usage_anomaly)
SELECT id, agent_id, conversation_id, message_id, provider, model, input_tokens, output_tokens,
       cost_usd, latency_ms, outcome, usage_estimated, created_at, usage_anomaly
FROM cost_events
ORDER BY rowid;

DROP TABLE cost_events;
ALTER TABLE cost_events_new RENAME TO cost_events;

CREATE INDEX cost_events_by_time ON cost_events (created_at);
CREATE INDEX cost_events_by_conversation ON cost_events (conversation_id, id);
