#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine: pnpm at the pinned version, the
# dependencies from the lockfile (better-sqlite3 compiles from source against Node's headers),
# and a build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
fi

# node-gyp builds native modules against the headers of the Node that runs them; Debian's
# nodejs keeps them under /usr/include/node.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi

pnpm install --frozen-lockfile
pnpm build
