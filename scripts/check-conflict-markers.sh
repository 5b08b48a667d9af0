#!/usr/bin/env bash
# Fails when a tracked file still holds a merge's conflict markers (one merge left them in
# docs/pipeline.md, and nothing else reads Markdown). Part of `pnpm lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --git-dir >/dev/null 2>&1 || exit 0 # not a checkout: nothing to compare against
if git grep -n -E '^(<<<<<<<|>>>>>>>) ' -- .; then
  echo "check-conflict-markers: the lines above are a merge's conflict markers" >&2
  exit 1
fi
