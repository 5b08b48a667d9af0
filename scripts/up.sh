#!/usr/bin/env bash
# The README's first command: set everything up, then start the runtime on its embedded
# defaults (SQLite under ./data, http://127.0.0.1:3000). Prints the operator key on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node packages/runtime/dist/cli/main.js serve
