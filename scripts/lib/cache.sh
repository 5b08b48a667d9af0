#!/usr/bin/env bash
# Shared by the build and test scripts: where slow, rebuildable things are cached between runs
# (outside the clone, so a fresh clone reuses them). A missing cache only makes a run slower.
# Override with AGENTIK_CACHE_DIR.
agentik_cache_dir() {
  local dir="${AGENTIK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agentik-os}"
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}
