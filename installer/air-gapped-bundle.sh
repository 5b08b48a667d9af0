#!/usr/bin/env bash
# Builds the signed offline bundle of Agentik OS, on a connected build machine, from this checkout
# (after scripts/setup.sh):
#   bash installer/air-gapped-bundle.sh --version 1.0.0 --out DIR --sign-key FINGERPRINT \
#     [--models llama3,mistral:7b --ollama-models DIR] [--arch x64]
# The signing key comes from the ordinary GNUPGHOME. Writes DIR/agentik-os-<version>-linux-<arch>.tar.gz
# and prints its path as the last line; sizes and the build time go to stderr. See
# docs/air-gapped.md for what the bundle holds and how it is verified and installed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

version='' out='' key='' models='' arch=x64
store="${OLLAMA_MODELS:-$HOME/.ollama/models}"
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --sign-key) key=${2:?--sign-key needs a value}; shift 2 ;;
    --models) models=${2:?--models needs a list}; shift 2 ;;
    --ollama-models) store=${2:?--ollama-models needs a folder}; shift 2 ;;
    --arch) arch=${2:?--arch needs a value}; shift 2 ;;
    *) echo "air-gapped-bundle: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "air-gapped-bundle: $*" >&2; exit 1; }
if [ -z "$version" ] || [ -z "$out" ] || [ -z "$key" ]; then
  echo 'usage: air-gapped-bundle.sh --version V --out DIR --sign-key FPR [--models a,b:tag --ollama-models DIR] [--arch x64]' >&2
  exit 2
fi
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "--version $version is not MAJOR.MINOR.PATCH[-prerelease]"
case "$arch" in
  x64) ;;
  arm64) die '--arch arm64: the format allows it, but this builder only makes x64 bundles (Node 24 and better-sqlite3 are built for the build machine)' ;;
  *) die "--arch $arch: expected x64 or arm64" ;;
esac
gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 || die "no secret key $key in GNUPGHOME (${GNUPGHOME:-~/.gnupg}) to sign with"

# Models: checked before anything slow, so a missing one fails fast.
model_specs=()
if [ -n "$models" ]; then
  [ -d "$store" ] || die "the Ollama model store $store does not exist (--ollama-models)"
  IFS=',' read -r -a names <<<"$models"
  for m in "${names[@]}"; do
    name=${m%%:*} tag=latest
    [ "$name" = "$m" ] || tag=${m#*:}
    [[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ && "$tag" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "bad model name $m"
    [ -f "$store/manifests/registry.ollama.ai/library/$name/$tag" ] ||
      die "model $name:$tag is not in $store (no manifests/registry.ollama.ai/library/$name/$tag); pull it with ollama first"
    model_specs+=("$name:$tag")
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top="$work/agentik-os-$version-linux-$arch"
mkdir -p "$top/bin" "$top/schema"

# The runtime as a standalone executable, with better-sqlite3 beside it (cached builds).
bash installer/lib/build-sea.sh --version "$version" --out "$top/bin"
node24=$(bash scripts/node24.sh)/bin/node
node_version=$("$node24" -p 'process.versions.node')
[ "$("$top/bin/agentik" version)" = "$version" ] || die 'bin/agentik does not print the stamped version'

# Static files: migrations, the dashboard build, licences, the unit, the installer (its
# verification library inlined, so it is one file that can be checked by hand).
for backend in sqlite postgres; do
  mkdir -p "$top/backends/$backend"
  cp -R "backends/$backend/migrations" "$top/backends/$backend/"
done
pnpm --silent --dir packages/dashboard build >"$work/dashboard.log" 2>&1 || { cat "$work/dashboard.log" >&2; die 'the dashboard build failed'; }
cp -R packages/dashboard/dist "$top/dashboard"
cp LICENSE NOTICE "$top/"
cp installer/agentik-os.service "$top/agentik-os.service"
awk '
  / # @inline lib\/bundle-verify\.sh$/ { while ((getline line < "installer/lib/bundle-verify.sh") > 0) print line; next }
  { print }
' installer/install-airgapped.sh >"$top/install-airgapped.sh"
grep -q '^bundle_verify()' "$top/install-airgapped.sh" || die 'the verification library was not inlined into the installer'
chmod 0755 "$top/install-airgapped.sh"

# Schema dump: what this release's migrations make, by the shipped executable itself.
data="$work/schema-data"
mkdir -p "$data"
AGENTIK_DATA_DIR="$data" AGENTIK_LOG_LEVEL=warn "$top/bin/agentik" migrate >/dev/null
AGENTIK_DATA_DIR="$data" AGENTIK_LOG_LEVEL=warn "$top/bin/agentik" tenant create --name Schema --owner schema@build.invalid >/dev/null
dump() { "$node24" installer/lib/schema-dump.mjs "$top/bin/sqlite-driver.cjs" "$top/bin/better_sqlite3.node" "$1"; }
dump "$data/master.db" >"$top/schema/master.sql"
dump "$(find "$data/tenants" -name '*.db' | head -n 1)" >"$top/schema/tenant.sql"

# SBOM of the production dependencies bundled into bin/agentik.
pnpm --silent --filter @agentik/runtime list --prod --json --depth=Infinity |
  node installer/lib/sbom.mjs "$version" "$node_version" >"$top/sbom.cdx.json"

# Models: each manifest and exactly the blobs it names, each blob's sha256 checked on the copy.
for spec in "${model_specs[@]}"; do
  name=${spec%%:*} tag=${spec#*:}
  rel="manifests/registry.ollama.ai/library/$name/$tag"
  mkdir -p "$top/models/$(dirname "$rel")" "$top/models/blobs"
  cp "$store/$rel" "$top/models/$rel"
  # shellcheck disable=SC2016 # JavaScript, not shell
  digests=$(node -e '
    const m = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const all = [m.config, ...(m.layers ?? [])].filter(Boolean).map((l) => l.digest);
    for (const d of all) if (!/^sha256:[0-9a-f]{64}$/.test(d)) { console.error(`bad digest ${d}`); process.exit(1); }
    console.log([...new Set(all)].join("\n"));
  ' "$store/$rel") || die "model $spec: its manifest is not an Ollama manifest"
  for digest in $digests; do
    blob="blobs/sha256-${digest#sha256:}"
    [ -f "$store/$blob" ] || die "model $spec: blob $blob is missing from $store"
    cp "$store/$blob" "$top/models/$blob"
    [ "$(sha256sum "$top/models/$blob" | cut -d' ' -f1)" = "${digest#sha256:}" ] ||
      die "model $spec: blob $blob does not match its sha256 (a damaged model store)"
  done
  printf '%s\n' "$digests" >"$work/model-$name-$tag.digests"
done

SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
tarball=$(bash installer/lib/seal-bundle.sh --dir "$top" --out "$out" --sign-key "$key" --node-version "$node_version" | tail -n 1)

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
total=$(stat -c %s "$tarball")
model_total=0
model_lines=''
for spec in "${model_specs[@]}"; do
  name=${spec%%:*} tag=${spec#*:}
  mapfile -t blobs < <(sed 's|^sha256:|blobs/sha256-|' "$work/model-$name-$tag.digests")
  size=$( (cd "$top/models" && cat "manifests/registry.ollama.ai/library/$name/$tag" "${blobs[@]}") | gzip -6 | wc -c)
  model_total=$((model_total + size))
  model_lines+="  model $spec: $(mb "$size") compressed"$'\n'
done
{
  echo "air-gapped-bundle: $(basename "$tarball")"
  if [ ${#model_specs[@]} -eq 0 ]; then
    echo "  compressed size: $(mb "$total") (no models)"
  else
    echo "  compressed size: $(mb "$total") in all, about $(mb $((total - model_total))) without models"
    printf '%s' "$model_lines"
  fi
  echo "  build time: $(( $(date +%s) - started )) s"
} >&2
printf '%s\n' "$tarball"
