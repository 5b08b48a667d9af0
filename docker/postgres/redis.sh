#!/bin/sh
# Redis for the postgres profile (rate limits shared by the runtime replicas). The password is the
# one in the runtime's secret, secrets/redis_url (redis://:PASSWORD@redis:6379/0), so there is one
# place to change it. `redis.sh ping` is the health check.
set -eu
url=$(cat /run/secrets/redis_url)
rest=${url#*://}
password=${rest%%@*}
password=${password#*:}
if [ -z "$password" ] || [ "$password" = "$rest" ]; then
  echo "redis: secrets/redis_url must look like redis://:PASSWORD@redis:6379/0" >&2
  exit 1
fi
export REDISCLI_AUTH="$password"
if [ "${1:-}" = ping ]; then
  [ "$(redis-cli -h 127.0.0.1 ping)" = PONG ]
  exit
fi
# The password goes into a config file on the tmpfs, not on the command line.
umask 077
printf 'requirepass "%s"\nbind 0.0.0.0\nprotected-mode no\ndir /data\nappendonly yes\nsave 60 1000\n' "$password" >/tmp/redis.conf
exec redis-server /tmp/redis.conf
