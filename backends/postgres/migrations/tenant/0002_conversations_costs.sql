-- Agents gain enabled tools and a context budget.
ALTER TABLE agents ADD COLUMN tools TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN context_tokens INTEGER;

CREATE TABLE conversations (
  id          TEXT COLLATE "C" PRIMARY KEY,
  agent_id    TEXT COLLATE "C" NOT NULL,
  user_id     TEXT,
  source      TEXT NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'openai')),
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE INDEX conversations_by_agent ON conversations (agent_id, id);

CREATE TABLE messages (
  id               TEXT COLLATE "C" PRIMARY KEY,
  conversation_id  TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role             TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content          TEXT NOT NULL,
  tokens           INTEGER,
  created_at       BIGINT NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- Full-text recall of past turns: an expression index, so there is no second copy of the text
-- and nothing to keep in step. Queries must use the same expression (to_tsvector('simple', content)).
CREATE INDEX messages_fts ON messages USING GIN (to_tsvector('simple', content));

CREATE TABLE cost_events (
  id               TEXT COLLATE "C" PRIMARY KEY,
  agent_id         TEXT COLLATE "C" NOT NULL,
  conversation_id  TEXT COLLATE "C",
  message_id       TEXT COLLATE "C",
  provider         TEXT NOT NULL,
  model            TEXT NOT NULL,
  input_tokens     INTEGER,
  output_tokens    INTEGER,
  cost_usd         DOUBLE PRECISION,
  latency_ms       INTEGER NOT NULL,
  outcome          TEXT NOT NULL CHECK (outcome IN ('ok', 'aborted')),
  usage_estimated  INTEGER NOT NULL DEFAULT 0,
  created_at       BIGINT NOT NULL
);

CREATE INDEX cost_events_by_time ON cost_events (created_at);

-- One row: the tenant's budget and its running totals for the current month. Reservations and
-- settlements are single UPDATE statements; the row lock makes concurrent ones (from any
-- replica) queue and re-check the limit, so they cannot overshoot a hard limit.
CREATE TABLE budget (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  monthly_limit_usd  DOUBLE PRECISION,
  hard               INTEGER NOT NULL DEFAULT 1,
  thresholds         TEXT NOT NULL DEFAULT '[50,80,100]',
  period             TEXT NOT NULL,
  spent_usd          DOUBLE PRECISION NOT NULL DEFAULT 0,
  reserved_usd       DOUBLE PRECISION NOT NULL DEFAULT 0,
  notified           TEXT NOT NULL DEFAULT '[]',
  updated_at         BIGINT NOT NULL
);

-- The row exists from the start (no limit), so reservations never need an insert first; a
-- period other than the current month reads as a fresh month.
INSERT INTO budget (id, monthly_limit_usd, hard, thresholds, period, spent_usd, reserved_usd, notified, updated_at)
VALUES (1, NULL, 1, '[50,80,100]', '0000-00', 0, 0, '[]', 0);

CREATE TABLE provider_credentials (
  provider    TEXT COLLATE "C" PRIMARY KEY CHECK (provider IN ('ollama', 'openai', 'openai-compatible', 'anthropic')),
  base_url    TEXT,
  api_key     TEXT,
  updated_at  BIGINT NOT NULL
);
