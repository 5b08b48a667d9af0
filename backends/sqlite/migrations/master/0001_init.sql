-- Master store: tenants, users, memberships, API keys, platform audit. Nothing tenant-owned.
CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  slug        TEXT NOT NULL,
  name        TEXT NOT NULL,
  owner       TEXT NOT NULL,
  plan        TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
  status      TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  deleted_at  INTEGER
) STRICT;

-- A slug is unique among live tenants; a tombstone keeps its slug for the audit trail.
CREATE UNIQUE INDEX tenants_live_slug ON tenants (slug) WHERE status <> 'deleted';

CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  handle      TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
  user_id     TEXT NOT NULL REFERENCES users (id),
  tenant_id   TEXT NOT NULL REFERENCES tenants (id),
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, tenant_id)
) STRICT;

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT REFERENCES tenants (id),
  user_id       TEXT REFERENCES users (id),
  role          TEXT NOT NULL CHECK (role IN ('operator', 'owner', 'admin', 'member', 'viewer')),
  name          TEXT,
  prefix        TEXT NOT NULL,
  hash          TEXT NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER,
  CHECK ((role = 'operator') = (tenant_id IS NULL))
) STRICT;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE platform_audit (
  id         TEXT PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  tenant_id  TEXT,
  target     TEXT,
  details    TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX platform_audit_by_tenant ON platform_audit (tenant_id, id);
