#!/bin/sh
# Entry point of the Compose stack's proxy (POSIX sh: runs on the alpine and the Debian nginx).
# Writes /tmp/agentik-proxy/generated.conf, starts nginx in the foreground, and reloads it when
# the certificate in /etc/agentik-certs/live changes (renewal, new provided files). Exits 78 when
# the postgres profile's replica runs while the runtime is left on SQLite.
set -eu

cert=/etc/agentik-certs/live/fullchain.pem
key=/etc/agentik-certs/live/privkey.pem
conf_dir=/tmp/agentik-proxy
mkdir -p "$conf_dir"

body_limit=${AGENTIK_BODY_LIMIT_BYTES:-1048576}
case $body_limit in
  '' | *[!0-9]*) echo "proxy: AGENTIK_BODY_LIMIT_BYTES must be a number of bytes, got '$body_limit'" >&2; exit 78 ;;
esac

# Compose's DNS server, as the container sees it (Docker: 127.0.0.11; podman: the network's gateway).
resolver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
if [ -z "$resolver" ]; then
  echo "proxy: no nameserver in /etc/resolv.conf" >&2
  exit 78
fi
case $resolver in *:*) resolver="[$resolver]" ;; esac

case ${TLS_MODE:-selfsigned} in
  # OCSP stapling only for an operator's CA: a self-signed certificate has no responder, and
  # Let's Encrypt no longer runs OCSP.
  provided) stapling='ssl_stapling on; ssl_stapling_verify on;' ;;
  selfsigned | letsencrypt) stapling='ssl_stapling off;' ;;
  *) echo "proxy: TLS_MODE must be selfsigned, provided or letsencrypt, got '${TLS_MODE}'" >&2; exit 78 ;;
esac

# Replicas need Postgres: with the postgres profile, runtime-2 runs on Postgres, and a `runtime`
# left on SQLite would split the tenants between two stores behind one address. Refuse that.
storage_guard() {
  if [ "${AGENTIK_STORAGE:-sqlite}" != postgres ] && getent hosts runtime-2 >/dev/null 2>&1; then
    echo "proxy: refusing to serve: the postgres profile runs runtime-2 on Postgres while runtime has AGENTIK_STORAGE=${AGENTIK_STORAGE:-sqlite}, so requests would alternate between two different stores. Set AGENTIK_STORAGE=postgres and AGENTIK_REDIS_URL_FILE=/run/secrets/redis_url in .env (docker/README.md, \"Postgres profile\")." >&2
    return 1
  fi
}
storage_guard || exit 78

cat >"$conf_dir/generated.conf" <<EOF
resolver $resolver valid=10s ipv6=off;
resolver_timeout 5s;
client_max_body_size $body_limit;
$stapling
EOF

waited=0
until [ -s "$cert" ] && [ -s "$key" ]; do
  if [ "$waited" -ge 120 ]; then
    echo "proxy: no certificate in /etc/agentik-certs/live after 120 s (see the certs service's logs)" >&2
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

nginx -e stderr -g 'daemon off;' &
nginx_pid=$!
trap 'kill -TERM "$nginx_pid" 2>/dev/null' TERM INT
trap 'kill -QUIT "$nginx_pid" 2>/dev/null' QUIT

fingerprint() { cat "$cert" "$key" 2>/dev/null | cksum; }
(
  last=$(fingerprint)
  while kill -0 "$nginx_pid" 2>/dev/null; do
    sleep "${CERT_CHECK_SECONDS:-60}"
    if ! storage_guard; then
      touch "$conf_dir/refused"
      kill -TERM "$nginx_pid" 2>/dev/null
      break
    fi
    now=$(fingerprint)
    if [ "$now" != "$last" ] && [ -s "$cert" ] && [ -s "$key" ]; then
      echo "proxy: certificate changed, reloading nginx" >&2
      nginx -e stderr -s reload && last=$now
    fi
  done
) &

# wait returns early when a trapped signal arrives: keep waiting until nginx has exited.
status=0
wait "$nginx_pid" || status=$?
while kill -0 "$nginx_pid" 2>/dev/null; do
  wait "$nginx_pid" || status=$?
done
[ ! -e "$conf_dir/refused" ] || exit 78
exit "$status"
