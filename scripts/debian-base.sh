#!/usr/bin/env bash
# Prints the path of a cached tarball of a minimal Debian 12 root file system
# (debootstrap --variant=minbase bookworm, from the machine's Debian archive), made once and
# reused by the clean-system tests and the local container base images. Needs root.
#   bash scripts/debian-base.sh          -> the tarball
#   bash scripts/debian-base.sh --root   -> a folder holding it unpacked (kept in step with the
#                                           tarball), for tests that put an overlay over it
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
if [ "${1:-}" != --root ]; then
  printf '%s\n' "$out"
  exit 0
fi
root="$cache/debian-${SUITE}-minbase.root"
stamp="$(stat -c '%s %Y' "$out")"
if [ "$(cat "$root.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$root" "$root.stamp" "$root.partial"
  mkdir -p "$root.partial"
  tar -C "$root.partial" --numeric-owner -xf "$out"
  mv "$root.partial" "$root"
  printf '%s\n' "$stamp" >"$root.stamp"
fi
printf '%s\n' "$root"
