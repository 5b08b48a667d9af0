-- One tenant's store. Everything here belongs to that tenant alone.
CREATE TABLE agents (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  description    TEXT,
  system_prompt  TEXT NOT NULL,
  provider       TEXT NOT NULL CHECK (provider IN ('ollama', 'openai', 'openai-compatible', 'anthropic')),
  model          TEXT NOT NULL,
  temperature    REAL,
  max_tokens     INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
  id       TEXT PRIMARY KEY,
  at       INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT,
  details  TEXT NOT NULL DEFAULT '{}'
) STRICT;
