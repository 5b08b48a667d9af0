#!/bin/sh
# Run once by the postgres image on an empty data directory (as the superuser, through
# /docker-entrypoint-initdb.d). Creates the runtime's login role and database as docs/postgres.md
# requires (LOGIN CREATEROLE NOINHERIT, not a superuser; owner of its database), with the user,
# password and database name taken from the runtime's own secret, secrets/database_url
# (postgres://USER:PASSWORD@postgres:5432/DATABASE; URL-safe characters only).
set -eu
url=$(cat /run/secrets/database_url)
rest=${url#*://}
creds=${rest%%@*}
user=${creds%%:*}
password=${creds#*:}
database=${rest##*/}
database=${database%%\?*}
if [ -z "$user" ] || [ "$password" = "$creds" ] || [ -z "$database" ]; then
  echo "initdb: secrets/database_url must look like postgres://USER:PASSWORD@postgres:5432/DATABASE" >&2
  exit 1
fi
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v user="$user" -v password="$password" -v database="$database" <<'SQL'
CREATE ROLE :"user" LOGIN CREATEROLE NOINHERIT PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"user";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
\connect :"database"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
echo "initdb: role $user (LOGIN CREATEROLE NOINHERIT) owns database $database"
