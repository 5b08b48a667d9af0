#!/usr/bin/env bash
# Local stand-ins, made without a registry, for the third-party images docker-compose.prod.yml
# names, arranged like the official ones where the stack relies on it (paths, users, entry
# points, the tools its health checks call). Prints one SERVICE_IMAGE=image line per image:
#   CERTBOT_IMAGE     certbot/certbot: Debian's certbot + openssl, root, ENTRYPOINT certbot
#   POSTGRES_IMAGE    postgres: Debian's PostgreSQL 15, user postgres 999, PGDATA under
#                     /var/lib/postgresql/data, POSTGRES_*_FILE, /docker-entrypoint-initdb.d
#   REDIS_IMAGE       redis: Debian's redis-server, user redis 999, /data
#   PROMETHEUS_IMAGE  prom/prometheus: Debian's prometheus at /bin/prometheus, user nobody,
#                     /prometheus, busybox-like wget for the health check
#   PROXY_IMAGE       the NGINX_IMAGE of docker/.local-bases.env, plus wget when it has none
#                     (the official alpine nginx images have it)
# Each tag is a hash of its Containerfile and files (the base is named in it); an existing image is reused.
# Usage: local-images.sh DEBIAN_IMAGE NGINX_IMAGE
set -euo pipefail
shopt -s inherit_errexit
debian=$1
nginx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

short_hash() { sha256sum | cut -c1-16; }
APT_INSTALL='apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends'
APT_CLEAN='rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb'

# build NAME < Containerfile: prints the image, building it when no image has that content hash.
build() {
  local name=$1 file="$work/$1.Containerfile"
  cat >"$file"
  local image
  image="localhost/agentik-test-$name:$( { cat "$file"; [ ! -d "$work/$name-files" ] || find "$work/$name-files" -type f -exec cat {} +; } | short_hash)"
  if ! podman image exists "$image"; then
    echo "compose-test: building $image" >&2
    mkdir -p "$work/$name"
    cp "$file" "$work/$name/Containerfile"
    [ -d "$work/$name-files" ] && cp -a "$work/$name-files/." "$work/$name/"
    podman build --quiet --layers=false --format docker -t "$image" "$work/$name" >/dev/null
  fi
  printf '%s\n' "$image"
}

certbot=$(build certbot <<EOF
FROM $debian
RUN $APT_INSTALL certbot openssl ca-certificates >/dev/null && $APT_CLEAN
ENTRYPOINT ["certbot"]
EOF
)

# The official image's entrypoint, reduced to what the stack uses: first start runs initdb with
# the superuser password from POSTGRES_PASSWORD_FILE and the init scripts, then postgres listens
# on every address with password authentication.
mkdir -p "$work/postgres-files"
cat >"$work/postgres-files/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
shopt -s inherit_errexit
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=postgres}"
if [ "${1:-}" = postgres ]; then shift; fi
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE"); fi
if [ -z "${POSTGRES_PASSWORD:-}" ]; then echo "postgres: no superuser password" >&2; exit 1; fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' $*" -w start >/dev/null
  [ "$POSTGRES_DB" = postgres ] || psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) echo "postgres: running $f"; . "$f" ;;
      *.sql) echo "postgres: running $f"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" "$@"
EOF
postgres=$(build postgres <<EOF
FROM $debian
RUN groupadd --system --gid 999 postgres \\
 && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres \\
 && mkdir -p /etc/postgresql-common && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \\
 && $APT_INSTALL postgresql-15 >/dev/null && $APT_CLEAN \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \\
 && chown -R 999:999 /var/lib/postgresql /var/run/postgresql && chmod 1777 /var/lib/postgresql/data && chmod 3777 /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data
USER 999
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
EOF
)

redis=$(build redis <<EOF
FROM $debian
RUN groupadd --system --gid 999 redis \\
 && useradd --system --uid 999 --gid 999 --home-dir /data --shell /usr/sbin/nologin redis \\
 && $APT_INSTALL redis-server >/dev/null && $APT_CLEAN \\
 && mkdir -p /data && chown 999:999 /data
WORKDIR /data
USER 999
EXPOSE 6379
CMD ["redis-server"]
EOF
)

prometheus=$(build prometheus <<EOF
FROM $debian
RUN $APT_INSTALL prometheus wget >/dev/null && $APT_CLEAN \\
 && mkdir -p /prometheus && chown 65534:65534 /prometheus \\
 && test -x /bin/prometheus && test -x /bin/promtool
USER 65534
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
)

if podman run --rm --entrypoint /bin/sh "$nginx" -c 'command -v wget' >/dev/null 2>&1; then
  proxy=$nginx
else
  proxy=$(build proxy <<EOF
FROM $nginx
USER 0
RUN $APT_INSTALL wget >/dev/null && $APT_CLEAN
USER 101
EOF
)
fi

printf 'CERTBOT_IMAGE=%s\nPOSTGRES_IMAGE=%s\nREDIS_IMAGE=%s\nPROMETHEUS_IMAGE=%s\nPROXY_IMAGE=%s\n' \
  "$certbot" "$postgres" "$redis" "$prometheus" "$proxy"
