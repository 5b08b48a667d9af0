-- Requests per tenant and minute for the shared (database) rate limiter. SQLite serves one
-- process, which uses the in-process limiter; the table keeps the master store's port the same
-- on both backends.
CREATE TABLE rate_windows (
  tenant_id  TEXT NOT NULL,
  minute     INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, minute)
) STRICT;
