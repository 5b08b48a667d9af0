#!/usr/bin/env bash
# Builds the runtime as a standalone executable for the offline bundle, on Node 24 LTS:
#   bash installer/lib/build-sea.sh --version 1.0.0 --out DIR
# writes DIR/agentik (a Node single executable application: the runtime bundled by esbuild into
# one CommonJS file, injected with postject into a copy of Node 24's binary), DIR/better_sqlite3.node
# (better-sqlite3's addon compiled against Node 24's headers, loaded by path) and
# DIR/sqlite-driver.cjs (better-sqlite3's JavaScript, for the checkpoint worker thread, which cannot
# load code from the executable). Needs the workspace installed and built (scripts/setup.sh).
#
# Cached outside the clone (scripts/lib/cache.sh): the compiled addon by better-sqlite3 version and
# Node version, and the version-free esbuild output by a hash of the sources, so building several
# versions from one checkout only re-stamps the version and re-injects.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/cache.sh
. scripts/lib/cache.sh

version='' out=''
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    *) echo "build-sea: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$version" ] || [ -z "$out" ]; then echo 'usage: build-sea.sh --version V --out DIR' >&2; exit 2; fi

cache=$(agentik_cache_dir)
node24_dir=$(bash scripts/node24.sh)
node24="$node24_dir/bin/node"
node_version=$("$node24" -p 'process.versions.node')
sqlite_pkg=$(cd packages/runtime && node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json'))")
sqlite_version=$(node -p "require('$sqlite_pkg/package.json').version")

# better-sqlite3's addon, compiled against Node 24's headers (no prebuilt binary can be fetched).
addon_dir="$cache/better-sqlite3-${sqlite_version}-node-${node_version}-linux-x64"
if [ ! -s "$addon_dir/better_sqlite3.node" ]; then
  echo "build-sea: compiling better-sqlite3 ${sqlite_version} for Node ${node_version} (about a minute, cached)" >&2
  work=$(mktemp -d "$cache/.sqlite.XXXXXX")
  cp -rL "$sqlite_pkg" "$work/pkg"
  rm -rf "$work/pkg/build"
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  (cd "$work/pkg" && PATH="$node24_dir/bin:$PATH" npm_config_nodedir="$node24_dir" \
    "$node24" "$gyp" rebuild --release --nodedir="$node24_dir" >"$work/log" 2>&1) || { tail -n 30 "$work/log" >&2; rm -rf "$work"; exit 1; }
  "$node24" -e "require(process.argv[1])" "$work/pkg/build/Release/better_sqlite3.node"
  mkdir -p "$work/out"
  cp "$work/pkg/build/Release/better_sqlite3.node" "$work/out/"
  # Another build may have finished first: keep its copy (same inputs, same result).
  mv -T "$work/out" "$addon_dir" 2>/dev/null || true
  rm -rf "$work"
fi

# The esbuild output, keyed by everything it is made from; the version is a placeholder that
# each build replaces (same length rules do not matter: the blob is rebuilt from the text).
placeholder='0.0.0-agentik-build-version-placeholder'
key=$( { git ls-files -co --exclude-standard -- packages/runtime/src packages/shared/src installer/lib/build-sea.sh \
           pnpm-lock.yaml | LC_ALL=C sort | xargs -d '\n' sha256sum; echo "node $node_version sqlite $sqlite_version"; } \
       | sha256sum | cut -c1-16)
js_dir="$cache/sea-js-$key"
if [ ! -s "$js_dir/agentik.cjs" ]; then
  pnpm --silent --dir packages/shared exec tsc -b >/dev/null
  work=$(mktemp -d "$cache/.seajs.XXXXXX")
  esbuild="node_modules/.bin/esbuild"
  common=(--bundle --platform=node --format=cjs --target=node24 --log-level=warning --log-override:empty-import-meta=silent --legal-comments=none --charset=utf8)
  # openpgp's ESM build calls createRequire(import.meta.url) at load, which a CommonJS bundle
  # cannot answer: bundle its CommonJS build instead (the updater's verifier uses it).
  openpgp_cjs=$(cd packages/runtime && node -p "require.resolve('openpgp')")
  "$esbuild" packages/runtime/src/cli/main.ts "${common[@]}" --outfile="$work/agentik.cjs" \
    --define:AGENTIK_BUILD_VERSION="\"$placeholder\"" --external:pg-native --alias:openpgp="$openpgp_cjs"
  "$esbuild" "$sqlite_pkg/lib/index.js" "${common[@]}" --outfile="$work/sqlite-driver.cjs"
  mv -T "$work" "$js_dir" 2>/dev/null || rm -rf "$work"
fi
# Entries of sources nobody has built for a week go (about 5 MB each).
touch "$js_dir"
find "$cache" -maxdepth 1 -name 'sea-js-*' -mtime +7 -exec rm -rf {} + 2>/dev/null || true

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s/$placeholder/$version/g" "$js_dir/agentik.cjs" >"$work/agentik.cjs"
grep -q "\"$version\"" "$work/agentik.cjs" || { echo 'build-sea: the version was not stamped' >&2; exit 1; }
# Relative paths: the blob records the main script's name, and a temp folder in it would make
# two builds of one commit differ.
cat >"$work/sea-config.json" <<EOF
{ "main": "agentik.cjs", "output": "sea.blob", "disableExperimentalSEAWarning": true, "useSnapshot": false, "useCodeCache": false }
EOF
(cd "$work" && "$node24" --experimental-sea-config sea-config.json >sea.log 2>&1) || { cat "$work/sea.log" >&2; exit 1; }
cp "$node24" "$work/agentik"
chmod 0755 "$work/agentik"
node_modules/.bin/postject "$work/agentik" NODE_SEA_BLOB "$work/sea.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >"$work/postject.log" 2>&1 || { cat "$work/postject.log" >&2; exit 1; }
install -m 0755 "$work/agentik" "$out/agentik"
install -m 0644 "$addon_dir/better_sqlite3.node" "$out/better_sqlite3.node"
install -m 0644 "$js_dir/sqlite-driver.cjs" "$out/sqlite-driver.cjs"
