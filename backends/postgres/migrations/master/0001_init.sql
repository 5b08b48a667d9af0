-- Master store (schema agentik): tenants, users, memberships, API keys, platform audit, and the
-- per-tenant request counters shared by every replica. Nothing tenant-owned lives here.
-- Ids use the "C" collation so that ORDER BY id is byte order (ULID = creation order) whatever
-- the database's default collation is.
CREATE TABLE tenants (
  id          TEXT COLLATE "C" PRIMARY KEY,
  slug        TEXT NOT NULL,
  name        TEXT NOT NULL,
  owner       TEXT NOT NULL,
  plan        TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
  status      TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  deleted_at  BIGINT
);

-- A slug is unique among live tenants; a tombstone keeps its slug for the audit trail.
CREATE UNIQUE INDEX tenants_live_slug ON tenants (slug) WHERE status <> 'deleted';

CREATE TABLE users (
  id          TEXT COLLATE "C" PRIMARY KEY,
  handle      TEXT NOT NULL UNIQUE,
  created_at  BIGINT NOT NULL
);

CREATE TABLE memberships (
  user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (user_id, tenant_id)
);

CREATE TABLE api_keys (
  id            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id     TEXT COLLATE "C" REFERENCES tenants (id),
  user_id       TEXT COLLATE "C" REFERENCES users (id),
  role          TEXT NOT NULL CHECK (role IN ('operator', 'owner', 'admin', 'member', 'viewer')),
  name          TEXT,
  prefix        TEXT NOT NULL,
  hash          TEXT NOT NULL UNIQUE,
  created_at    BIGINT NOT NULL,
  last_used_at  BIGINT,
  revoked_at    BIGINT,
  CHECK ((role = 'operator') = (tenant_id IS NULL))
);

CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE platform_audit (
  id         TEXT COLLATE "C" PRIMARY KEY,
  at         BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  tenant_id  TEXT COLLATE "C",
  target     TEXT,
  details    TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX platform_audit_by_tenant ON platform_audit (tenant_id, id);

-- Requests per tenant and minute, counted by every replica with one upsert (see the rate
-- limiter); rows older than the previous minute are pruned as new minutes begin.
CREATE TABLE rate_windows (
  tenant_id  TEXT COLLATE "C" NOT NULL,
  minute     BIGINT NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, minute)
);
