#!/usr/bin/env bash
# Builds the runtime and dashboard images from the unchanged Dockerfiles with podman, on the local
# base images of docker/local-bases.sh (no registry), and writes docker/.images.env:
#   AGENTIK_RUNTIME_IMAGE=localhost/agentik-os-runtime:<tag>     (and its image id)
#   AGENTIK_DASHBOARD_IMAGE=localhost/agentik-os-dashboard:<tag>
# Tag: $AGENTIK_IMAGE_TAG, default "dev". With AGENTIK_BUILD_WITH_DASHBOARD=1 also
# localhost/agentik-os-runtime:<tag>-with-dashboard (--build-arg WITH_DASHBOARD=1). A rebuild removes the image it replaced (by id) when
# nothing else uses it; build layers stay in podman's cache so an unchanged rebuild is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/containers.conf}"
TAG="${AGENTIK_IMAGE_TAG:-dev}"
bash docker/local-bases.sh >/dev/null
mapfile -t base_args < <(sed 's/^/--build-arg=/' docker/.local-bases.env)

version=$(node -p "require('./packages/runtime/package.json').version")
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# The machine's CA bundle, for the stage that runs pnpm install behind a TLS-intercepting proxy;
# mounted for the build only, it never reaches an image.
ca_args=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  ca_args=(--volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt)
fi

# The labels are also given with --label: podman's layer cache does not see a changed build
# argument in a LABEL instruction, so a cached build would keep the previous commit's revision.
build() { # <name> <tag> <dockerfile> [build args...] -> prints the image id
  local image="localhost/agentik-os-$1:$2" dockerfile=$3 previous iid
  shift 3
  previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  iid=$(mktemp)
  if ! podman build --format docker --layers "${base_args[@]}" "${ca_args[@]}" \
      --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
      --label "org.opencontainers.image.version=$version" --label "org.opencontainers.image.revision=$revision" \
      "$@" --iidfile "$iid" -f "$dockerfile" -t "$image" . >"$iid.log" 2>&1; then
    tail -n 40 "$iid.log" >&2
    rm -f "$iid" "$iid.log"
    echo "build-images: building $image failed" >&2
    return 1
  fi
  rm -f "$iid.log"
  local id
  id=$(sed "s/^sha256://" "$iid")
  rm -f "$iid"
  if [ -n "$previous" ] && [ "$previous" != "$id" ]; then podman rmi "$previous" >/dev/null 2>&1 || true; fi
  printf '%s\n' "$id"
}

runtime_id=$(build runtime "$TAG" docker/Dockerfile.runtime)
dashboard_id=$(build dashboard "$TAG" docker/Dockerfile.dashboard)
cat >docker/.images.env <<ENV
AGENTIK_RUNTIME_IMAGE=localhost/agentik-os-runtime:$TAG
AGENTIK_RUNTIME_IMAGE_ID=$runtime_id
AGENTIK_DASHBOARD_IMAGE=localhost/agentik-os-dashboard:$TAG
AGENTIK_DASHBOARD_IMAGE_ID=$dashboard_id
ENV
# The single-container variant (the runtime serving the dashboard itself), when asked for.
if [ "${AGENTIK_BUILD_WITH_DASHBOARD:-0}" = 1 ]; then
  combined_id=$(build runtime "$TAG-with-dashboard" docker/Dockerfile.runtime --build-arg WITH_DASHBOARD=1)
  cat >>docker/.images.env <<ENV
AGENTIK_RUNTIME_WITH_DASHBOARD_IMAGE=localhost/agentik-os-runtime:$TAG-with-dashboard
AGENTIK_RUNTIME_WITH_DASHBOARD_IMAGE_ID=$combined_id
ENV
fi
cat docker/.images.env
