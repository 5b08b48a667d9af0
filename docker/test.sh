#!/usr/bin/env bash
# The container tests of docker/, run by .ci/run on a clean machine: installs podman and friends
# when missing, builds the local base images and both images (docker/build-images.sh), then
#   docker/test-images.sh    each image on its own
#   docker/test-compose.sh   the Compose stack (when present)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in podman:podman buildah:buildah runc:runc debootstrap:debootstrap docker-compose:docker-compose \
            curl:curl gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
# The dnsname CNI plugin lets containers on a user network find each other by name (Compose).
[ -x /usr/lib/cni/dnsname ] || need_apt+=(golang-github-containernetworking-plugin-dnsname)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/containers.conf}"
# Images of this checkout, so two checkouts testing on one machine never replace each other's.
AGENTIK_IMAGE_TAG="${AGENTIK_IMAGE_TAG:-test-$(printf '%s' "$PWD" | sha256sum | cut -c1-8)}"
export AGENTIK_IMAGE_TAG
export AGENTIK_BUILD_WITH_DASHBOARD=1

start=$SECONDS
bash docker/build-images.sh
echo "docker/test.sh: images built in $((SECONDS - start)) s"
t=$SECONDS
bash docker/test-images.sh
echo "docker/test.sh: image tests took $((SECONDS - t)) s"
if [ -f docker/test-compose.sh ]; then
  t=$SECONDS
  bash docker/test-compose.sh
  echo "docker/test.sh: compose tests took $((SECONDS - t)) s"
fi
echo "docker/test.sh: done in $((SECONDS - start)) s"
