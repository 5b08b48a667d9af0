#!/usr/bin/env bash
# Prints the path of a cached tarball of a minimal Debian 12 root file system
# (debootstrap --variant=minbase bookworm, from the machine's Debian archive), made once and
# reused by the clean-system tests and the local container base images. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/cache.sh
. scripts/lib/cache.sh

SUITE=bookworm
cache=$(agentik_cache_dir)
out="$cache/debian-${SUITE}-minbase.tar"
if [ ! -s "$out" ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  work=$(mktemp -d "$cache/.debian.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase "$SUITE" "$work/root" >"$work/log" 2>&1 || { tail -n 20 "$work/log" >&2; exit 1; }
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar -C "$work/root" --numeric-owner -cf "$work/base.tar" .
  mv "$work/base.tar" "$out"
fi
printf '%s\n' "$out"
