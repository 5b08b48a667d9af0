#!/usr/bin/env bash
# Shared by the build and test scripts: where slow, rebuildable things are cached between runs
# (outside the clone, so a fresh clone reuses them). A missing cache only makes a run slower.
# Move it with XDG_CACHE_HOME. (Not an AGENTIK_* variable: the runtime refuses unknown AGENTIK_*
# settings, and the tests start runtimes that inherit this environment.)
agentik_cache_dir() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/agentik-os"
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}
