-- One tenant's store (schema t_<tenantId>, owned by the tenant's role). Everything here belongs
-- to that tenant alone.
CREATE TABLE agents (
  id             TEXT COLLATE "C" PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  description    TEXT,
  system_prompt  TEXT NOT NULL,
  provider       TEXT NOT NULL CHECK (provider IN ('ollama', 'openai', 'openai-compatible', 'anthropic')),
  model          TEXT NOT NULL,
  temperature    DOUBLE PRECISION,
  max_tokens     INTEGER,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE audit_events (
  id       TEXT COLLATE "C" PRIMARY KEY,
  at       BIGINT NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT,
  details  TEXT NOT NULL DEFAULT '{}'
);
