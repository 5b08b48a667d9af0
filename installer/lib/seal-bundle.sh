#!/usr/bin/env bash
# Seals a staged bundle folder into the signed offline bundle (format: BUNDLE-FORMAT in the issue
# and docs/air-gapped.md):
#   bash installer/lib/seal-bundle.sh --dir STAGED/agentik-os-<version>-linux-<arch> --out DIR \
#     --sign-key FINGERPRINT [--node-version V] [--created-at 2026-12-07T15:00:00Z] [--mtime EPOCH]
# writes <dir>/manifest.json (canonical layout: one file entry per line, sorted by path in byte
# order), signs it detached with gpg (--sign-key from the ordinary GNUPGHOME) into
# <dir>/manifest.json.sig, and packs DIR/<folder>.tar.gz reproducibly (sorted entries, fixed
# mtime, owner 0:0, no hard links, gzip without a name or timestamp). Prints the path last.
# The folder name gives product, version and arch. Used by air-gapped-bundle.sh, and by tests
# that need validly signed bundles with chosen contents.
set -euo pipefail

dir='' out='' key='' node_version='' created_at='' mtime="${SOURCE_DATE_EPOCH:-0}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --sign-key) key=${2:?--sign-key needs a value}; shift 2 ;;
    --node-version) node_version=${2:?--node-version needs a value}; shift 2 ;;
    --created-at) created_at=${2:?--created-at needs a value}; shift 2 ;;
    --mtime) mtime=${2:?--mtime needs a value}; shift 2 ;;
    *) echo "seal-bundle: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "seal-bundle: $*" >&2; exit 1; }
if [ -z "$dir" ] || [ -z "$out" ] || [ -z "$key" ]; then
  echo 'usage: seal-bundle.sh --dir STAGED_TOPDIR --out DIR --sign-key FPR [--node-version V] [--created-at T] [--mtime EPOCH]' >&2
  exit 2
fi
[ -d "$dir" ] || die "$dir is not a folder"
dir=$(cd "$dir" && pwd)
name=$(basename "$dir")
semver='[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?'
[[ "$name" =~ ^agentik-os-($semver)-linux-(x64|arm64)$ ]] ||
  die "the folder must be named agentik-os-<version>-linux-<x64|arm64>, not $name"
version=${BASH_REMATCH[1]}
arch=${BASH_REMATCH[3]}
if [ -z "$node_version" ]; then
  node_version=$(sed -n "s/^NODE24_VERSION=//p" "$(dirname "$0")/../../scripts/node24.sh")
fi
[[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad --node-version $node_version"
[ -n "$created_at" ] || created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
[[ "$created_at" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || die "bad --created-at $created_at"
[[ "$mtime" =~ ^[0-9]+$ ]] || die "bad --mtime $mtime"

rm -f "$dir/manifest.json" "$dir/manifest.json.sig"
odd=$(find "$dir" -mindepth 1 ! -type f ! -type d -printf '%P\n' | head -n 5)
[ -z "$odd" ] || die "only plain files and folders may be sealed; found: $odd"
# Modes are part of what is reproducible: executables 0755, everything else 0644.
find "$dir" -type d -exec chmod 0755 {} +
find "$dir" -type f -perm -u+x -exec chmod 0755 {} +
find "$dir" -type f ! -perm -u+x -exec chmod 0644 {} +

files=$(cd "$dir" && find . -type f -printf '%P\n' | LC_ALL=C sort)
[ -n "$files" ] || die "$dir holds no files"
bad=$(printf '%s\n' "$files" | LC_ALL=C grep -Ev '^[A-Za-z0-9._+@-]+(/[A-Za-z0-9._+@-]+)*$' || true)
bad+=$(printf '%s\n' "$files" | LC_ALL=C grep -E '(^|/)\.\.?(/|$)' || true)
[ -z "$bad" ] || die "file names outside [A-Za-z0-9._+@-] (or a . / .. segment) cannot be listed: $bad"

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
{
  printf '{\n  "product": "agentik-os",\n  "version": "%s",\n  "os": "linux",\n  "arch": "%s",\n' "$version" "$arch"
  printf '  "createdAt": "%s",\n  "nodeVersion": "%s",\n  "files": [\n' "$created_at" "$node_version"
  (cd "$dir" && printf '%s\n' "$files" | xargs -d '\n' sha256sum) |
    while read -r sha path; do
      printf '    {"path": "%s", "size": %s, "sha256": "%s"},\n' "$path" "$(stat -c %s "$dir/$path")" "$sha"
    done | sed '$ s/},$/}/'
  printf '  ]\n}\n'
} >"$manifest"
install -m 0644 "$manifest" "$dir/manifest.json"
gpg --batch --yes --quiet --local-user "$key" --digest-algo SHA256 --detach-sign \
  --output "$dir/manifest.json.sig" "$dir/manifest.json"
chmod 0644 "$dir/manifest.json.sig"

mkdir -p "$out"
out=$(cd "$out" && pwd)
tarball="$out/$name.tar.gz"
tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mtime="@$mtime" --hard-dereference \
  -C "$(dirname "$dir")" -cf - "$name" | gzip -n -6 >"$tarball.part"
mv "$tarball.part" "$tarball"
printf '%s\n' "$tarball"
