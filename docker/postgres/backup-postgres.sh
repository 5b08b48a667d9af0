#!/bin/sh
# The tools profile's backup-postgres service: pg_dump of the runtime's database (custom format,
# every schema: the master schema `agentik` and each tenant's `t_<id>`) and the cluster's roles
# (the per-tenant roles live there), into /backups/<date>/ (./backups on the host).
set -eu
url=$(cat /run/secrets/database_url)
database=${url##*/}
database=${database%%\?*}
printf '%s:*:*:%s:%s\n' "${PGHOST:-postgres}" "${PGUSER:-postgres}" "$(cat /run/secrets/postgres_password)" >/tmp/pgpass
chmod 0600 /tmp/pgpass
export PGPASSFILE=/tmp/pgpass
out="/backups/$(date -u +%Y-%m-%dT%H-%M-%SZ)"
mkdir -p "$out"
pg_dumpall --roles-only --no-role-passwords >"$out/roles.sql"
pg_dump --format=custom --file="$out/$database.dump" "$database"
pg_restore --list "$out/$database.dump" >/dev/null
echo "backup-postgres: $out/$database.dump and $out/roles.sql"
