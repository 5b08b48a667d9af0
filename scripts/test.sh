#!/usr/bin/env bash
# The whole test suite, run by `pnpm test` (the README's second command, and what .ci/run runs). It installs
# and starts what the tests use for real when it is missing (Chromium, PostgreSQL and Redis on
# loopback; each deployment test installs its own tools), sets up the workspace, then runs
#   pnpm test:quick                type-check, lint, dependency rules, unit, integration and
#                                  browser tests, the Helm chart's render and schema tests
#   installer/test/run.sh          the offline bundle and the air-gapped installer in a clean Debian
#   installer/test/update-e2e.sh   the offline updater end to end in a clean Debian
#   docker/test.sh                 both images and the Compose stack, on podman
# The last three need root (chroot, namespaces, containers). Slow, rebuildable inputs (Node 24,
# the Debian root, compiled addons, base images) are cached outside the clone: see scripts/lib/cache.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
bash scripts/ci-services.sh
bash scripts/setup.sh

run() {
  local start=$SECONDS
  "$@"
  echo "scripts/test.sh: '$*' took $((SECONDS - start)) s"
}
run pnpm test:quick
run bash installer/test/run.sh
run bash installer/test/update-e2e.sh
run bash docker/test.sh
