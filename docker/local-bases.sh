#!/usr/bin/env bash
# Builds the base images the Dockerfiles name by ARG, without any registry, and writes
# docker/.local-bases.env (one ARG=image per line). Then, from the repository root:
#   podman build --format docker $(sed 's/^/--build-arg /' docker/.local-bases.env) \
#     --volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro \
#     --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt -f docker/Dockerfile.runtime .
#
#   localhost/agentik-base-debian        debootstrap --variant=minbase bookworm (scripts/debian-base.sh)
#   localhost/agentik-base-node-build    BUILD_IMAGE: Debian + Node 24 in /usr/local (as the official
#                                        node image), npm, python3/make/g++ for node-gyp, user node 1000
#   localhost/agentik-base-node-runtime  RUNTIME_IMAGE: distroless-like: Node 24 at /nodejs/bin/node,
#                                        its shared libraries, CA certificates, user nonroot 65532, no shell
#   localhost/agentik-base-nginx         NGINX_IMAGE: Debian's nginx set up like nginx-unprivileged
#                                        (uid 101, port 8080, /etc/nginx/conf.d, pid and temp files in
#                                        /tmp, wget as in the alpine image's busybox)
#
# Each tag is a hash of what the image is made from; an image already present is not rebuilt
# (podman's storage persists on the machine, so a missing image only costs time). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/cache.sh
. scripts/lib/cache.sh

export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/containers.conf}"
NPM_VERSION=11.19.1
NPM_INTEGRITY='sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g=='
ENV_FILE=docker/.local-bases.env

log() { printf 'local-bases: %s\n' "$*" >&2; }
short_hash() { sha256sum | cut -c1-16; }
have_image() { podman image exists "$1" 2>/dev/null; }

cache=$(agentik_cache_dir)
work=$(mktemp -d "$cache/.local-bases.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- Debian minbase --------------------------------------------------------------------------
debian_tar=$(bash scripts/debian-base.sh)
# Hashing 120 MB on every run is slow-ish: remember the hash next to the tarball, by size and mtime.
stamp="$debian_tar.$(stat -c '%s-%Y' "$debian_tar").sha256"
[ -s "$stamp" ] || sha256sum "$debian_tar" | cut -c1-16 >"$stamp"
DEBIAN_IMAGE="localhost/agentik-base-debian:$(cat "$stamp")"
if ! have_image "$DEBIAN_IMAGE"; then
  log "importing $DEBIAN_IMAGE"
  podman import --quiet --change 'CMD ["/bin/bash"]' "$debian_tar" "$DEBIAN_IMAGE" >/dev/null
fi

# --- Node 24 build base ----------------------------------------------------------------------
node_dir=$(bash scripts/node24.sh)
node_version=$("$node_dir/bin/node" --version 2>/dev/null || basename "$node_dir")
npm_tgz="$cache/npm-${NPM_VERSION}.tgz"
if [ ! -s "$npm_tgz" ]; then
  (cd "$work" && npm pack --silent "npm@${NPM_VERSION}" >/dev/null)
  actual="sha512-$(openssl dgst -sha512 -binary "$work/npm-${NPM_VERSION}.tgz" | base64 -w0)"
  if [ "$actual" != "$NPM_INTEGRITY" ]; then
    log "integrity mismatch for npm@${NPM_VERSION}: got $actual"
    exit 1
  fi
  mv "$work/npm-${NPM_VERSION}.tgz" "$npm_tgz"
fi

build_containerfile() {
  cat <<CONTAINERFILE
FROM $DEBIAN_IMAGE
# node-gyp needs python3, make and a C++ compiler; ca-certificates for HTTPS from the image.
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      python3 make g++ ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# Node where the official image has it: /usr/local/{bin,include,share}.
COPY node/bin/ /usr/local/bin/
COPY node/include/ /usr/local/include/
COPY node/share/ /usr/local/share/
COPY node/LICENSE /usr/local/share/doc/node/LICENSE
COPY npm.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \\
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 --no-same-owner \\
 && rm /tmp/npm.tgz \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=${node_version#v}
CMD ["node"]
CONTAINERFILE
}
build_hash=$( { build_containerfile; echo "$node_version"; sha256sum <"$npm_tgz"; } | short_hash)
BUILD_IMAGE="localhost/agentik-base-node-build:$build_hash"
if ! have_image "$BUILD_IMAGE"; then
  log "building $BUILD_IMAGE"
  ctx="$work/node-build"
  mkdir -p "$ctx/node"
  cp -a "$node_dir/bin" "$node_dir/include" "$node_dir/share" "$node_dir/LICENSE" "$ctx/node/"
  cp "$npm_tgz" "$ctx/npm.tgz"
  build_containerfile >"$ctx/Containerfile"
  podman build --quiet --layers=false --format docker -t "$BUILD_IMAGE" "$ctx" >/dev/null
fi

# --- distroless-like Node 24 runtime base ----------------------------------------------------
runtime_containerfile() {
  cat <<'CONTAINERFILE'
ARG FROM_IMAGE
FROM ${FROM_IMAGE} AS collect
# Only what Node needs to run: the binary, the shared libraries it links (with the dynamic
# loader), CA certificates, passwd/group with root and nonroot, and a /tmp. No shell, no apt.
RUN set -eu; r=/rootfs; \
    mkdir -p $r/nodejs/bin $r/etc/ssl/certs $r/tmp $r/home/nonroot $r/usr/share/doc/nodejs \
      $r/usr/lib $r/usr/lib64 $r/usr/bin $r/usr/sbin; \
    for d in lib lib64 bin sbin; do ln -s usr/$d $r/$d; done; \
    cp /usr/local/bin/node $r/nodejs/bin/node; \
    for lib in $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do \
      mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/; \
    cp /etc/nsswitch.conf /etc/os-release $r/etc/ 2>/dev/null || cp /etc/nsswitch.conf $r/etc/; \
    cp /usr/local/share/doc/node/LICENSE $r/usr/share/doc/nodejs/LICENSE; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >$r/etc/passwd; \
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >$r/etc/group; \
    chmod 1777 $r/tmp; chown 65532:65532 $r/home/nonroot; \
    chroot $r /nodejs/bin/node -e 'process.stdout.write(process.version)' >/dev/null
FROM scratch
COPY --from=collect /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
CONTAINERFILE
}
runtime_hash=$( { runtime_containerfile; echo "$BUILD_IMAGE"; } | short_hash)
RUNTIME_IMAGE="localhost/agentik-base-node-runtime:$runtime_hash"
if ! have_image "$RUNTIME_IMAGE"; then
  log "building $RUNTIME_IMAGE"
  ctx="$work/node-runtime"
  mkdir -p "$ctx"
  runtime_containerfile >"$ctx/Containerfile"
  podman build --quiet --layers=false --format docker --build-arg "FROM_IMAGE=$BUILD_IMAGE" -t "$RUNTIME_IMAGE" "$ctx" >/dev/null
fi

# --- nginx like nginx-unprivileged -----------------------------------------------------------
nginx_containerfile() {
  cat <<CONTAINERFILE
FROM $DEBIAN_IMAGE
# Debian's nginx, arranged like nginxinc/nginx-unprivileged: user nginx (uid/gid 101), a default
# server on 8080 in /etc/nginx/conf.d, pid and temp files under /tmp, logs to stdout/stderr,
# and wget for health checks (busybox has it in the alpine image).
RUN groupadd --system --gid 101 nginx \\
 && useradd --system --uid 101 --gid nginx --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin nginx \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light wget >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /etc/nginx/sites-enabled /etc/nginx/sites-available \\
 && rm -f /etc/nginx/conf.d/* \\
 && mkdir -p /usr/share/nginx/html /var/cache/nginx \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \\
 && chown -R 101:0 /var/cache/nginx /etc/nginx/conf.d && chmod -R g+w /var/cache/nginx /etc/nginx/conf.d \\
 && printf '%s\n' \\
    'worker_processes auto;' \\
    'error_log /var/log/nginx/error.log notice;' \\
    'pid /tmp/nginx.pid;' \\
    'events { worker_connections 1024; }' \\
    'http {' \\
    '  proxy_temp_path /tmp/proxy_temp;' \\
    '  client_body_temp_path /tmp/client_temp;' \\
    '  fastcgi_temp_path /tmp/fastcgi_temp;' \\
    '  uwsgi_temp_path /tmp/uwsgi_temp;' \\
    '  scgi_temp_path /tmp/scgi_temp;' \\
    '  include /etc/nginx/mime.types;' \\
    '  default_type application/octet-stream;' \\
    '  access_log /var/log/nginx/access.log;' \\
    '  sendfile on;' \\
    '  keepalive_timeout 65;' \\
    '  include /etc/nginx/conf.d/*.conf;' \\
    '}' >/etc/nginx/nginx.conf \\
 && printf '%s\n' \\
    'server {' \\
    '  listen 8080;' \\
    '  server_name localhost;' \\
    '  location / { root /usr/share/nginx/html; index index.html; }' \\
    '}' >/etc/nginx/conf.d/default.conf \\
 && printf '<!doctype html><title>nginx</title><p>nginx\n' >/usr/share/nginx/html/index.html \\
 && nginx -t 2>/dev/null \\
 && rm -rf /tmp/* /tmp/.[!.]*
EXPOSE 8080
STOPSIGNAL SIGQUIT
USER 101
CMD ["nginx", "-g", "daemon off;"]
CONTAINERFILE
}
nginx_hash=$(nginx_containerfile | short_hash)
NGINX_IMAGE="localhost/agentik-base-nginx:$nginx_hash"
if ! have_image "$NGINX_IMAGE"; then
  log "building $NGINX_IMAGE"
  ctx="$work/nginx"
  mkdir -p "$ctx"
  nginx_containerfile >"$ctx/Containerfile"
  podman build --quiet --layers=false --format docker -t "$NGINX_IMAGE" "$ctx" >/dev/null
fi

{
  echo "BUILD_IMAGE=$BUILD_IMAGE"
  echo "RUNTIME_IMAGE=$RUNTIME_IMAGE"
  echo "NGINX_IMAGE=$NGINX_IMAGE"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "wrote $ENV_FILE"
cat "$ENV_FILE"
