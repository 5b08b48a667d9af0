#!/bin/sh
# Makes the Compose stack's secret files under docker/secrets/ that do not exist yet, with random
# values (no default passwords anywhere). Run once before the first `docker compose up`; it never
# overwrites a file, so it is safe to run again. The directory is 0700 and only root (or you) can
# read it on the host; each file is 0644 because it is bind-mounted into a container whose user is
# not yours (the runtime runs as 65532, Postgres and Redis as 999, Grafana as 472).
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 0700 secrets

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

make_secret() {
  if [ -s "secrets/$1" ]; then
    echo "secrets/$1: kept"
    return
  fi
  (umask 022 && printf '%s\n' "$2" >"secrets/$1.new" && mv "secrets/$1.new" "secrets/$1")
  echo "secrets/$1: made"
}

make_secret encryption_key "$(random_hex 32)"
make_secret postgres_password "$(random_hex 24)"
make_secret database_url "postgres://agentik:$(random_hex 24)@postgres:5432/agentik"
make_secret redis_url "redis://:$(random_hex 24)@redis:6379/0"
make_secret grafana_admin_password "$(random_hex 16)"
echo "Back up docker/secrets/encryption_key with your data: tenant provider keys cannot be read without it."
