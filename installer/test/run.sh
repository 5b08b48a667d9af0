#!/usr/bin/env bash
# shellcheck disable=SC2016 # the single-quoted scripts run in an inner bash, which expands them
# End-to-end test of the offline bundle and the air-gapped installer (run by .ci/run, as root):
# Checks every installer script with shellcheck; bundles built from this checkout and signed with a
# throwaway key; installs in a clean minimal Debian (debootstrap --variant=minbase, no Node) entered
# with unshare (mount, net, pid) + chroot; the runtime started as the agentik user with the unit's
# environment file; a tenant created with the generated operator key; models checked in the Ollama
# store; every refusal case (nothing installed after any of them); the unit checked with
# systemd-analyze; two builds of one commit compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo 'installer test: run as root (chroot, unshare, overlay mounts)' >&2; exit 1; }
started=$(date +%s)
need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/agentik-installer-test.XXXXXX")
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then echo "installer test: FAILED (work folder kept: $work)" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() { printf 'FAIL - %s\n' "$*" >&2; exit 1; }

step 'shellcheck'
mapfile -t scripts < <(find installer -name '*.sh' | LC_ALL=C sort)
shellcheck -x "${scripts[@]}"
ok "shellcheck clean: ${scripts[*]}"

step 'systemd unit'
verify_err=$(unshare --mount bash -c '
  mount -t tmpfs tmpfs /opt
  mkdir -p /opt/agentik-os/current/bin
  printf "#!/bin/sh\nexit 0\n" >/opt/agentik-os/current/bin/agentik
  chmod 0755 /opt/agentik-os/current/bin/agentik
  systemd-analyze verify "$1" 2>&1 >/dev/null' _ "$repo/installer/agentik-os.service")
[ -z "$verify_err" ] || fail "systemd-analyze verify wrote to stderr: $verify_err"
ok 'systemd-analyze verify: nothing on stderr'
exposure=$(systemd-analyze security --offline=true "$repo/installer/agentik-os.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for agentik-os.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail 'systemd-analyze security printed no exposure level'
awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' || fail "exposure $exposure is above 3.0"
ok "systemd-analyze security --offline=true: exposure $exposure (at most 3.0)"

step 'keys and a synthetic Ollama model store'
export GNUPGHOME="$work/gnupg"
mkdir -m 0700 "$GNUPGHOME"
newkey() {
  gpg --batch --quiet --passphrase '' --quick-gen-key "$1" ed25519 sign never 2>/dev/null
  gpg --batch --with-colons --list-keys "$1" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }'
}
release_fpr=$(newkey 'Agentik OS test release <release@agentik.invalid>')
other_fpr=$(newkey 'Someone else <other@agentik.invalid>')
gpg --batch --armor --export "$release_fpr" >"$work/release.asc"
gpg --batch --export "$release_fpr" >"$work/release.gpg"
gpg --batch --armor --export "$other_fpr" >"$work/other.asc"

store="$work/ollama-models"
blob() { # FILE -> the blob's digest; stores it under blobs/sha256-<hex>
  local hex
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  mkdir -p "$store/blobs"
  cp "$1" "$store/blobs/sha256-$hex"
  printf 'sha256:%s\n' "$hex"
}
make_model() { # NAME TAG WEIGHT_BYTES
  local d="$work/model-src-$1" weights template params config
  mkdir -p "$d"
  head -c "$3" /dev/urandom >"$d/weights"
  printf '{{ .System }}\n{{ .Prompt }}' >"$d/template"
  printf '{"stop":["<|end|>"]}' >"$d/params"
  weights=$(blob "$d/weights") template=$(blob "$d/template") params=$(blob "$d/params")
  printf '{"model_format":"gguf","model_family":"llama","model_type":"%s","file_type":"Q4_0","rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$1" "$weights" >"$d/config"
  config=$(blob "$d/config")
  mkdir -p "$store/manifests/registry.ollama.ai/library/$1"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"%s","size":%s},{"mediaType":"application/vnd.ollama.image.template","digest":"%s","size":%s},{"mediaType":"application/vnd.ollama.image.params","digest":"%s","size":%s}]}' \
    "$config" "$(stat -c %s "$d/config")" "$weights" "$3" "$template" "$(stat -c %s "$d/template")" "$params" "$(stat -c %s "$d/params")" \
    >"$store/manifests/registry.ollama.ai/library/$1/$2"
}
make_model tiny latest 1048576
make_model mini q4 524288
# A blob no model names: it must not travel.
head -c 1000 /dev/urandom >"$work/stray" && blob "$work/stray" >/dev/null
ok "model store with tiny:latest and mini:q4 ($(find "$store/blobs" -type f | wc -l) blobs, one unreferenced)"

step 'build bundles from the checkout'
build() { bash installer/air-gapped-bundle.sh --sign-key "$release_fpr" "$@" 2>"$work/build.err" | tail -n 1; }
if bash installer/air-gapped-bundle.sh --version 1.0.0 --out "$work/none" --sign-key "$release_fpr" \
  --models tiny,absent:7b --ollama-models "$store" >/dev/null 2>"$work/build.err"; then
  fail 'a build naming a missing model succeeded'
fi
grep -q 'model absent:7b is not in' "$work/build.err" || fail "unclear message for a missing model: $(cat "$work/build.err")"
ok "a missing model fails the build: $(cat "$work/build.err")"
t=$(date +%s)
b100=$(build --version 1.0.0 --out "$work/b100" --models tiny,mini:q4 --ollama-models "$store")
cat "$work/build.err"
ok "built $(basename "$b100") with two models in $(( $(date +%s) - t )) s"
t=$(date +%s)
b101=$(build --version 1.0.1 --out "$work/b101")
cat "$work/build.err"
ok "built $(basename "$b101") in $(( $(date +%s) - t )) s"
t=$(date +%s)
b101again=$(build --version 1.0.1 --out "$work/b101again")
ok "built it again in $(( $(date +%s) - t )) s"
size=$(stat -c %s "$b101")
[ "$size" -lt 80000000 ] || fail "the bundle without models is $size bytes, over 80 MB"
ok "bundle without models: $size bytes (under 80 MB)"

step 'reproducibility: two builds of one commit'
# The signature is over a manifest whose createdAt differs, and an EdDSA signature packet's size
# varies by a byte with its numbers' leading zero bits: its line is compared without the size.
listing() { tar -tvzf "$1" | sed -E 's#^(\S+ \S+ +)[0-9]+( .*/manifest\.json\.sig)$#\1SIZE\2#'; }
[ "$(listing "$b101")" = "$(listing "$b101again")" ] || fail 'the two archives list different entries, sizes, modes or times'
mkdir -p "$work/r1" "$work/r2"
tar -xzf "$b101" -C "$work/r1"
tar -xzf "$b101again" -C "$work/r2"
top101=agentik-os-1.0.1-linux-x64
diff -r --exclude=manifest.json --exclude=manifest.json.sig "$work/r1" "$work/r2" >/dev/null || fail 'the two builds differ in a payload file'
manifest_diff=$(diff "$work/r1/$top101/manifest.json" "$work/r2/$top101/manifest.json" | grep '^[<>]' | grep -vc '"createdAt"' || true)
[ "$manifest_diff" = 0 ] || fail 'the two manifests differ in more than createdAt'
ok 'the two builds differ only in createdAt and the signature'

step 'bundles to refuse'
# Made from a small, validly signed copy of the 1.0.1 bundle (the executable swapped for a stub
# before sealing), so that tampering and verifying take seconds, not minutes.
mkdir -p "$work/bad" "$work/small"
cp -R "$work/r1/$top101" "$work/small/"
printf '#!/bin/sh\necho "stub agentik: $*: failing on purpose" >&2\nexit 1\n' >"$work/small/$top101/bin/agentik"
small=$(bash installer/lib/seal-bundle.sh --dir "$work/small/$top101" --out "$work/small-out" --sign-key "$release_fpr" | tail -n 1)
# shellcheck source=installer/lib/bundle-verify.sh
. installer/lib/bundle-verify.sh
mkdir -p "$work/control"
bundle_verify "$small" "$work/release.asc" "$work/control" || fail 'the untampered small bundle does not verify'
ok "the untampered small bundle verifies (version $BUNDLE_VERSION, $(printf '%s\n' "$BUNDLE_FILES" | wc -l) files)"
unpack() { rm -rf "$work/u"; mkdir -p "$work/u"; tar -xzf "$small" -C "$work/u"; }
repack() { # NAME [tar options...]: packs $work/u/<top> as the tampered bundle NAME
  local name=$1
  shift
  tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner -C "$work/u" "$@" -czf "$work/bad/$name.tar.gz" "$(ls "$work/u")"
}
unpack; printf 'X' | dd of="$work/u/$top101/LICENSE" bs=1 seek=100 conv=notrunc status=none; repack byte
unpack; echo 'not listed' >"$work/u/$top101/extra.txt"; repack extra
unpack; sed -i 's/"createdAt": "[^"]*"/"createdAt": "2020-01-01T00:00:00Z"/' "$work/u/$top101/manifest.json"; repack manifest
unpack; gpg --batch --yes --quiet --local-user "$other_fpr" --detach-sign -o "$work/u/$top101/manifest.json.sig" "$work/u/$top101/manifest.json"; repack otherkey
unpack; mkdir -p "$work/u/$top101/trusted-keys"; cp "$work/other.asc" "$work/u/$top101/trusted-keys/release.asc"
cp "$work/other.asc" "$work/u/$top101/trusted.asc"
bash installer/lib/seal-bundle.sh --dir "$work/u/$top101" --out "$work/sealed" --sign-key "$other_fpr" >/dev/null
cp "$work/sealed/$top101.tar.gz" "$work/bad/carried.tar.gz"
unpack; rm "$work/u/$top101/manifest.json.sig"; repack unsigned
unpack; echo evil >"$work/u/$top101/evil"; repack dotdot --transform "s,^$top101/evil\$,$top101/../evil,"
unpack; ln -s /etc/passwd "$work/u/$top101/bin/passwd"; repack symlink
unpack; mv "$work/u/$top101" "$work/u/agentik-os-1.0.1-linux-arm64"
bash installer/lib/seal-bundle.sh --dir "$work/u/agentik-os-1.0.1-linux-arm64" --out "$work/sealed" --sign-key "$release_fpr" >/dev/null
cp "$work/sealed/agentik-os-1.0.1-linux-arm64.tar.gz" "$work/bad/arch.tar.gz"
ok "made $(find "$work/bad" -name '*.tar.gz' | wc -l) tampered bundles"

step 'a clean minimal Debian'
base=$(bash scripts/debian-base.sh --root)
if [ -e "$base/usr/bin/node" ] || [ -e "$base/usr/local/bin/node" ]; then fail "the base system has Node"; fi
ok "base root $base"

# Each case gets its own overlay over the cached root, mounted inside the case's namespaces.
new_case() { # NAME -> case folder with the medium in /media
  local c="$work/case-$1"
  mkdir -p "$c/upper/media" "$c/work" "$c/merged"
  cp "$work/release.asc" "$work/release.gpg" "$c/upper/media/"
  tar -xzf "$b100" -C "$c/upper/media" --strip-components=1 "agentik-os-1.0.0-linux-x64/install-airgapped.sh"
  printf '%s\n' "$c"
}
export base
enter_root() { # CASE: mounts the case's root and brings loopback up (inside unshare)
  local m=$1/merged
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$1/upper,workdir=$1/work" "$m"
  mount --bind /dev "$m/dev"
  mount -t proc proc "$m/proc"
  mount -t tmpfs tmpfs "$m/tmp"
  mount -t tmpfs tmpfs "$m/run"
  ip link set lo up
}
export -f enter_root
# The host's NODE_EXTRA_CA_CERTS names a file the clean root does not have.
in_ns() { unshare --mount --net --pid --fork --mount-proc env -u NODE_EXTRA_CA_CERTS bash -c "$1" _ "${@:2}"; }

refuse_case() { # NAME BUNDLE EXPECTED_MESSAGE [ALSO_ALLOWED_FIND_ARGS...]
  local c rc=0 left
  c=$(new_case "$1")
  cp "$2" "$c/upper/media/bundle.tar.gz"
  in_ns 'enter_root "$1"; chroot "$1/merged" /bin/bash /media/install-airgapped.sh --bundle /media/bundle.tar.gz --trusted-key /media/release.asc' \
    "$c" >"$c/out" 2>"$c/err" || rc=$?
  [ "$rc" != 0 ] || fail "$1: the installer accepted it"
  grep -qF -- "$3" "$c/err" || fail "$1: expected \"$3\" on stderr, got: $(cat "$c/err")"
  # Nothing installed: the overlay's upper layer holds only the medium (and an emptied /var/tmp).
  left=$(cd "$c/upper" && find . -mindepth 1 ! -path './media' ! -path './media/*' ! -path ./var ! -path ./var/tmp "${@:4}")
  [ -z "$left" ] || fail "$1: the refused install left: $left"
  if [ -d "$c/upper/etc" ] && grep -qs '^agentik:' "$c/upper/etc/passwd" "$c/upper/etc/group" "$c/upper/etc/shadow"; then
    fail "$1: the agentik user or group was left behind"
  fi
  ok "$1 refused (exit $rc): $(grep -m1 -E 'refused|failed' "$c/err")"
}
step 'refusals (each in a fresh root; nothing may be left behind)'
refuse_case byte-changed "$work/bad/byte.tar.gz" 'sha256 mismatch (the file was changed): LICENSE'
refuse_case unlisted-file "$work/bad/extra.tar.gz" 'not listed in manifest.json (unlisted extra file): extra.txt'
refuse_case manifest-edited "$work/bad/manifest.tar.gz" 'bad signature: manifest.json was changed after it was signed'
refuse_case other-key "$work/bad/otherkey.tar.gz" 'which is not a trusted key'
refuse_case other-key-carried "$work/bad/carried.tar.gz" 'which is not a trusted key'
refuse_case signature-removed "$work/bad/unsigned.tar.gz" 'manifest.json.sig is missing: the bundle is not signed'
refuse_case dotdot-entry "$work/bad/dotdot.tar.gz" 'entry with a . or .. segment'
refuse_case symlink-out "$work/bad/symlink.tar.gz" 'something other than plain files and folders'
refuse_case other-arch "$work/bad/arch.tar.gz" 'the bundle is for arch arm64, this machine is x64'
# Past verification, a failing step (here: migrate, by the stub executable) removes what the run
# created: the release, the user (its entries in the account files), the config, the data dir.
refuse_case migrate-fails "$small" 'agentik migrate failed' ! -path ./etc ! -path ./var/log ! -path ./var/lib ! -path ./opt \
  ! -path ./etc/.pwd.lock ! -regex '\./etc/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-?' ! -regex '\./var/log/\(lastlog\|faillog\)'

step 'install, serve, healthcheck, tenant, models'
c=$(new_case install)
cp "$b100" "$c/upper/media/bundle.tar.gz"
cp "$b101" "$c/upper/media/bundle-1.0.1.tar.gz"
export repo
sqlite_dev=$(cd packages/runtime && node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json'))")
export sqlite_dev
in_ns '
  set -euo pipefail
  c=$1; m=$c/merged
  enter_root "$c"
  fail() { printf "FAIL - %s\n" "$*" >&2; exit 1; }
  ok() { printf "ok - %s\n" "$*"; }
  as_agentik() { chroot "$m" setpriv --reuid=agentik --regid=agentik --init-groups bash -c "set -a; . /etc/agentik-os/agentik.env; set +a; cd /var/lib/agentik-os; exec \"\$@\"" _ "$@"; }
  ! chroot "$m" bash -c "command -v node" >/dev/null || fail "node is on the test system"
  ! chroot "$m" bash -c "command -v curl || command -v gpg || command -v python3" >/dev/null || fail "curl, gpg or python on the test system"

  t0=$(date +%s%N)
  chroot "$m" /bin/bash /media/install-airgapped.sh --bundle /media/bundle.tar.gz --trusted-key /media/release.asc --port 3000 >"$c/install.out" 2>"$c/install.err" ||
    fail "install failed: $(cat "$c/install.err")"
  t1=$(date +%s%N)
  sed "s/^/    /" "$c/install.out"
  grep -q "systemd is not running here" "$c/install.out" || fail "no hint on how to start without systemd"

  # The layout.
  [ "$(readlink "$m/opt/agentik-os/current")" = releases/1.0.0 ] || fail "current does not point at releases/1.0.0"
  [ "$(chroot "$m" stat -c "%a %U:%G" /var/lib/agentik-os)" = "700 agentik:agentik" ] || fail "data dir mode/owner"
  [ "$(chroot "$m" stat -c "%a %U:%G" /etc/agentik-os/agentik.env)" = "640 root:agentik" ] || fail "env file mode/owner"
  [ "$(chroot "$m" stat -c "%a %U:%G" /etc/agentik-os/operator.key)" = "600 root:root" ] || fail "operator.key mode/owner"
  [ "$(wc -l <"$m/etc/agentik-os/operator.key")" = 1 ] || fail "operator.key is not one line"
  grep -Eq "^agk_[A-Za-z0-9_-]{43}\$" "$m/etc/agentik-os/operator.key" || fail "operator.key is not an agk_ key"
  ! grep -q OPERATOR "$m/etc/agentik-os/agentik.env" || fail "the operator key is in agentik.env"
  grep -Eq "^AGENTIK_ENCRYPTION_KEY=[0-9a-f]{64}\$" "$m/etc/agentik-os/agentik.env" || fail "no generated AGENTIK_ENCRYPTION_KEY"
  grep -q "^AGENTIK_PORT=3000\$" "$m/etc/agentik-os/agentik.env" || fail "no AGENTIK_PORT"
  cmp -s "$m/etc/agentik-os/trusted-keys/release.asc" "$m/media/release.asc" || fail "trusted key not copied"
  [ -f "$m/etc/systemd/system/agentik-os.service" ] || fail "no unit"
  chroot "$m" getent passwd agentik | grep -q ":/usr/sbin/nologin\$" || fail "agentik has a login shell"
  ok "layout: current -> releases/1.0.0, data 0700 agentik, env 0640 root:agentik, operator.key 0600, unit, trusted key"

  # Models, with the blobs each manifest names and nothing else.
  ms=$m/usr/share/ollama/.ollama/models
  for mf in library/tiny/latest library/mini/q4; do
    [ -f "$ms/manifests/registry.ollama.ai/$mf" ] || fail "model manifest $mf missing"
  done
  n=0
  for b in "$ms"/blobs/sha256-*; do
    [ "$(sha256sum "$b" | cut -d" " -f1)" = "${b##*/sha256-}" ] || fail "blob $b does not match its name"
    n=$((n + 1))
  done
  [ "$n" = 6 ] || fail "expected 6 blobs (two models sharing template and params), found $n"
  ok "models tiny:latest and mini:q4 in the Ollama store, $n blobs intact"

  # serve as the agentik user with the unit environment file; healthcheck; a tenant.
  as_agentik /opt/agentik-os/current/bin/agentik serve >"$c/serve.log" 2>&1 &
  ready=""
  for _ in $(seq 1 100); do
    if as_agentik /opt/agentik-os/current/bin/agentik healthcheck >"$c/health.out" 2>&1; then ready=yes; break; fi
    sleep 0.2
  done
  [ -n "$ready" ] || fail "not ready: $(cat "$c/health.out") $(tail -n 20 "$c/serve.log")"
  t2=$(date +%s%N)
  ok "agentik healthcheck: $(cat "$c/health.out")"
  echo "install took $(( (t1 - t0) / 1000000 )) ms; install to /ready $(( (t2 - t0) / 1000000 )) ms" | tee "$c/timing"
  [ "$(as_agentik /opt/agentik-os/current/bin/agentik version)" = 1.0.0 ] || fail "agentik version is not 1.0.0"
  key=$(cat "$m/etc/agentik-os/operator.key")
  created=$(KEY="$key" node -e "
    fetch(\"http://127.0.0.1:3000/api/tenants\", { method: \"POST\", headers: { authorization: \"Bearer \" + process.env.KEY, \"content-type\": \"application/json\" },
      body: JSON.stringify({ name: \"Air Gap\", owner: \"ops@airgap.invalid\" }) })
      .then(async (r) => { console.log(r.status, await r.text()); })")
  case "$created" in "201 "*) ;; *) fail "tenant creation with the operator key: $created" ;; esac
  ok "tenant created with /etc/agentik-os/operator.key: ${created:0:80}..."
  as_agentik /opt/agentik-os/current/bin/agentik tenant list | grep -q "air-gap" || fail "the CLI does not list the tenant"
  grep -q "Operator key (shown once" "$c/serve.log" && fail "serve generated its own operator key"
  as_agentik /opt/agentik-os/current/bin/agentik key create --tenant air-gap --role owner | grep -q "\"key\":\"agk_" || fail "agentik key create did not issue a key"
  # backup from the executable while serve runs: VACUUM INTO copies, checked, with backup.json.
  as_agentik /opt/agentik-os/current/bin/agentik backup --out /var/lib/agentik-os/backup-test >"$c/backup.out" 2>&1 || fail "agentik backup: $(cat "$c/backup.out")"
  grep -q "\"tenants\": 1" "$m/var/lib/agentik-os/backup-test/backup.json" || fail "the backup does not hold the tenant: $(cat "$c/backup.out")"
  ok "key create and backup from the executable: $(head -n 1 "$c/backup.out")"
  rm -rf "$m/var/lib/agentik-os/backup-test"

  # The schema dump in the bundle is what the migrations made here.
  dump() { node "$repo/installer/lib/schema-dump.mjs" "$sqlite_dev" "" "$1"; }
  dump "$m/var/lib/agentik-os/master.db" | cmp -s - "$m/opt/agentik-os/current/schema/master.sql" || fail "schema/master.sql differs from a fresh master store"
  dump "$(ls "$m"/var/lib/agentik-os/tenants/*.db | head -n 1)" | cmp -s - "$m/opt/agentik-os/current/schema/tenant.sql" || fail "schema/tenant.sql differs from a fresh tenant store"
  ok "schema/master.sql and schema/tenant.sql match the fresh stores"

  # Again with the same version: nothing changes. Another version: refused, pointing at the updater.
  snap() { (cd "$m" && find opt/agentik-os etc/agentik-os etc/systemd var/lib/agentik-os/master.db usr/share/ollama -printf "%p %m %U %s %T@\n" | LC_ALL=C sort; grep agentik etc/passwd); }
  before=$(snap)
  chroot "$m" /bin/bash /media/install-airgapped.sh --bundle /media/bundle.tar.gz --trusted-key /media/release.gpg >"$c/again.out" 2>&1 || fail "re-running the same version failed: $(cat "$c/again.out")"
  grep -q "already installed.*nothing changed" "$c/again.out" || fail "re-run did not say nothing changed"
  [ "$before" = "$(snap)" ] || fail "re-running the same version changed files"
  ok "same version again (binary trusted key): $(tail -n 1 "$c/again.out")"
  rc=0
  chroot "$m" /bin/bash /media/install-airgapped.sh --bundle /media/bundle-1.0.1.tar.gz --trusted-key /media/release.asc >"$c/other.out" 2>&1 || rc=$?
  [ "$rc" != 0 ] && grep -q "offline updater" "$c/other.out" || fail "another version was not refused with a pointer to the updater: $(cat "$c/other.out")"
  [ "$before" = "$(snap)" ] || fail "the refused version changed files"
  ok "another version refused: $(grep -m1 refused "$c/other.out")"
  kill %1 2>/dev/null || true
  wait 2>/dev/null || true
' "$c"
ok "install test passed"

step "done in $(( $(date +%s) - started )) s"
printf 'bundle 1.0.1 without models: %s bytes; 1.0.0 with two small models: %s bytes\n' "$(stat -c %s "$b101")" "$(stat -c %s "$b100")"
cat "$c/timing"
