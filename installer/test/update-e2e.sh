#!/usr/bin/env bash
# shellcheck disable=SC2016 # the single-quoted scripts run in an inner bash, which expands them
# End-to-end test of the offline updater (run by .ci/run, as root), in a clean minimal Debian with
# no Node (debootstrap --variant=minbase, cached), entered with unshare (mount, net, pid) + chroot:
# install 1.0.0 with the air-gapped installer; create tenants, keys, agents and conversations;
# `agentik update apply` 1.1.0 (every row and key kept); a 1.2.0 whose migration fails and one whose
# server never gets ready (each ends on 1.1.0, healthy, data identical, exit non-zero); a downgrade,
# the same version and a tampered bundle refused before anything stops; rollback to 1.0.0 with
# 1.0.0's data; the updater SIGKILLed after every journal step, then `recover` (or `apply` again):
# always one version, healthy, with its data. Bundles are built from the checkout with the same
# builder as the installer test (its slow parts are cached); the later versions are the 1.1.0
# release re-sealed with extra migrations, so only two real builds are needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo 'update test: run as root (chroot, unshare, overlay mounts)' >&2; exit 1; }
started=$(date +%s)
need=()
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# UPDATE_E2E_WORK=DIR reuses the keys and bundles a failed run kept in DIR (a developer aid).
work=${UPDATE_E2E_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/agentik-update-test.XXXXXX")}
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then echo "update test: FAILED (work folder kept: $work)" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() { printf 'FAIL - %s\n' "$*" >&2; exit 1; }

step 'a release key and the bundles'
export GNUPGHOME="$work/gnupg"
b100="$work/b100/agentik-os-1.0.0-linux-x64.tar.gz"
b110base="$work/b110base/agentik-os-1.1.0-linux-x64.tar.gz"
if [ -s "$b110base" ] && [ -n "${UPDATE_E2E_WORK:-}" ]; then
  fpr=$(gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  ok "reusing the bundles in $work"
else
  mkdir -m 0700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key 'Agentik OS update test <release@agentik.invalid>' ed25519 sign never 2>/dev/null
  fpr=$(gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  gpg --batch --armor --export "$fpr" >"$work/release.asc"
  build() { bash installer/air-gapped-bundle.sh --sign-key "$fpr" "$@" 2>"$work/build.err" | tail -n 1; }
  t=$(date +%s)
  b100=$(build --version 1.0.0 --out "$work/b100") || fail "build 1.0.0: $(cat "$work/build.err")"
  b110base=$(build --version 1.1.0 --out "$work/b110base") || fail "build 1.1.0: $(cat "$work/build.err")"
  ok "built 1.0.0 and 1.1.0 in $(( $(date +%s) - t )) s"
fi

# derive NAME VERSION [MIGRATION_TABLE...]: the 1.1.0 release as VERSION, with a master and a tenant
# migration per table (numbered from 0090), each adding a table and a row; prints the bundle path.
mkdir -p "$work/src"
[ -d "$work/src/agentik-os-1.1.0-linux-x64" ] || tar -xzf "$b110base" -C "$work/src"
derive() {
  local name=$1 version=$2 dir n=90 table set
  shift 2
  dir="$work/derive/$name/agentik-os-$version-linux-x64"
  rm -rf "$work/derive/$name"
  mkdir -p "$work/derive/$name"
  cp -R "$work/src/agentik-os-1.1.0-linux-x64" "$dir"
  rm -f "$dir/manifest.json" "$dir/manifest.json.sig"
  for table in "$@"; do
    for set in master tenant; do
      printf 'CREATE TABLE %s (id INTEGER PRIMARY KEY, note TEXT);\nINSERT INTO %s (note) VALUES (%s);\n' "$table" "$table" "'$set'" \
        >"$dir/backends/sqlite/migrations/$set/00${n}_$table.sql"
    done
    n=$((n + 1))
  done
  case "$name" in
    *broken*) printf 'ALTER TABLE no_such_table ADD COLUMN x TEXT;\n' >"$dir/backends/sqlite/migrations/tenant/00${n}_broken.sql" ;;
    *never-ready*)
      mv "$dir/bin/agentik" "$dir/bin/agentik-real"
      printf '#!/bin/sh\n# This release never gets ready: its server never listens.\n[ "$1" = serve ] && exec sleep 3600\nexec "$(dirname "$0")/agentik-real" "$@"\n' >"$dir/bin/agentik"
      chmod 0755 "$dir/bin/agentik" ;;
  esac
  bash installer/lib/seal-bundle.sh --dir "$dir" --out "$work/bundles/$name" --sign-key "$fpr" | tail -n 1
}
reuse() { # NAME VERSION: a bundle derived by an earlier run, when reusing
  local f="$work/bundles/$1/agentik-os-$2-linux-x64.tar.gz"
  if [ -n "${UPDATE_E2E_WORK:-}" ] && [ -s "$f" ]; then printf '%s\n' "$f"; else return 1; fi
}
b110=$(reuse good-1.1.0 1.1.0 || derive good-1.1.0 1.1.0 notes_v110)
b120broken=$(reuse broken-1.2.0 1.2.0 || derive broken-1.2.0 1.2.0 notes_v110 notes_v120)
b120never=$(reuse never-ready-1.2.0 1.2.0 || derive never-ready-1.2.0 1.2.0 notes_v110 notes_v120)
b120=$(reuse good-1.2.0 1.2.0 || derive good-1.2.0 1.2.0 notes_v110 notes_v120)
b130=$(reuse good-1.3.0 1.3.0 || derive good-1.3.0 1.3.0 notes_v110 notes_v120 notes_v130)
mkdir -p "$work/tampered"
tar -xzf "$b120" -C "$work/tampered"
printf 'X' | dd of="$work/tampered/agentik-os-1.2.0-linux-x64/LICENSE" bs=1 seek=10 conv=notrunc status=none
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work/tampered" -czf "$work/tampered.tar.gz" agentik-os-1.2.0-linux-x64
ok "derived 1.1.0 (+1 migration), 1.2.0 broken, 1.2.0 never ready, 1.2.0, 1.3.0 and a tampered 1.2.0"

step 'a clean minimal Debian'
base=$(bash scripts/debian-base.sh --root)
if [ -e "$base/usr/bin/node" ] || [ -e "$base/usr/local/bin/node" ]; then fail 'the base system has Node'; fi
c="$work/case"
rm -rf "$c"
mkdir -p "$c/upper/media" "$c/work" "$c/merged"
cp "$work/release.asc" "$c/upper/media/"
cp "$b100" "$c/upper/media/b100.tar.gz"
cp "$b110" "$c/upper/media/b110.tar.gz"
cp "$b120broken" "$c/upper/media/b120broken.tar.gz"
cp "$b120never" "$c/upper/media/b120never.tar.gz"
cp "$b120" "$c/upper/media/b120.tar.gz"
cp "$b130" "$c/upper/media/b130.tar.gz"
cp "$work/tampered.tar.gz" "$c/upper/media/tampered.tar.gz"
tar -xzf "$b100" -C "$c/upper/media" --strip-components=1 agentik-os-1.0.0-linux-x64/install-airgapped.sh
# The service command of a system without systemd: what the unit does, as a script.
cat >"$c/upper/media/service.sh" <<'EOF'
#!/bin/sh
pidfile=/run/agentik-test.pid
case "$1" in
  start)
    /opt/agentik-os/current/bin/agentik update recover --boot >>/run/agentik-test.log 2>&1 || exit 1
    setpriv --reuid=agentik --regid=agentik --init-groups sh -c \
      'set -a; . /etc/agentik-os/agentik.env; set +a; cd /var/lib/agentik-os; exec /opt/agentik-os/current/bin/agentik serve' \
      >>/run/agentik-test.log 2>&1 &
    echo $! >"$pidfile" ;;
  stop)
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile" ;;
  *) exit 2 ;;
esac
EOF
chmod 0755 "$c/upper/media/service.sh"
ok "base root $base; medium with the installer, the bundles and a service script"

step 'install 1.0.0, populate, update, fail, refuse, roll back, kill at every step'
export base repo
in_ns() { unshare --mount --net --pid --fork --mount-proc env -u NODE_EXTRA_CA_CERTS bash -c "$1" _ "${@:2}"; }
in_ns '
  set -euo pipefail
  c=$1; m=$c/merged
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$c/upper,workdir=$c/work" "$m"
  mount --bind /dev "$m/dev"
  mount -t proc proc "$m/proc"
  mount -t tmpfs tmpfs "$m/tmp"
  mount -t tmpfs tmpfs "$m/run"
  ip link set lo up
  fail() { printf "FAIL - %s\n" "$*" >&2; tail -n 30 "$m/run/agentik-test.log" >&2 || true; exit 1; }
  ok() { printf "ok - %s\n" "$*"; }
  client() { node "$repo/installer/test/update-e2e-client.mjs" "$@"; }
  base_url=http://127.0.0.1:3000
  ! chroot "$m" bash -c "command -v node" >/dev/null || fail "node is on the test system"
  upd() { chroot "$m" /opt/agentik-os/current/bin/agentik update "$@" --service-command /media/service.sh; }
  version() { basename "$(readlink "$m/opt/agentik-os/current")"; }
  fp() { client fingerprint "$m/var/lib/agentik-os"; }
  sums() { client summary "$base_url" "$c/keys.json"; }
  healthy() { client wait-ready "$base_url" 60 || fail "not healthy on $(version)"; }
  # Every table of before ($1) is unchanged in after ($2), except the migration records.
  kept() { node -e "const [a, b] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])]; const bad = Object.keys(a).filter((k) => !k.endsWith(\":schema_migrations\") && a[k] !== b[k]); if (bad.length) { console.error(bad.join(\" \")); process.exit(1); }" "$1" "$2"; }

  client fake-ollama 11434 &
  chroot "$m" /bin/bash /media/install-airgapped.sh --bundle /media/b100.tar.gz --trusted-key /media/release.asc --port 3000 >"$c/install.out" 2>"$c/install.err" ||
    fail "install failed: $(cat "$c/install.err")"
  [ "$(version)" = 1.0.0 ] || fail "installed $(version), not 1.0.0"
  grep -q "ExecStartPre=+/opt/agentik-os/current/bin/agentik update recover --boot" "$m/etc/systemd/system/agentik-os.service" || fail "the unit does not recover before it starts"
  chroot "$m" /media/service.sh start
  healthy
  client populate "$base_url" "$m/etc/agentik-os/operator.key" "$c/keys.json"
  f100=$(fp); s100=$(sums)
  ok "1.0.0 installed and populated: $(node -e "console.log(Object.keys(JSON.parse(process.argv[1])).length)" "$f100") tables, 3 tenants, 6 agents, 6 conversations, member keys"

  t=$(date +%s%N)
  upd apply --source /media/b110.tar.gz >"$c/apply110.out" 2>&1 || fail "apply 1.1.0: $(cat "$c/apply110.out")"
  ok "apply 1.1.0 in $(( ($(date +%s%N) - t) / 1000000 )) ms (health gate with the full 10 s stable window)"
  [ "$(version)" = 1.1.0 ] || fail "on $(version) after the update"
  [ "$(sums)" = "$s100" ] || fail "what the keys read changed: $(sums)"
  f110=$(fp)
  kept "$f100" "$f110" || fail "rows changed by the update"
  upd status >"$c/status.out" 2>&1 || fail "status: $(cat "$c/status.out")"
  grep -q "^current: 1.1.0" "$c/status.out" || fail "status does not show 1.1.0: $(cat "$c/status.out")"
  ok "1.1.0: every row kept, every key works, status shows 1.1.0"

  fast=(--health-stable-ms 1000)
  for bad in b120broken b120never; do
    rc=0; upd apply --source "/media/$bad.tar.gz" --health-timeout 10 "${fast[@]}" >"$c/$bad.out" 2>&1 || rc=$?
    [ "$rc" = 4 ] || fail "$bad: exit $rc, not 4: $(cat "$c/$bad.out")"
    [ "$(version)" = 1.1.0 ] || fail "$bad: left on $(version)"
    healthy
    [ "$(fp)" = "$f110" ] || fail "$bad: the data differs from before"
    [ "$(sums)" = "$s100" ] || fail "$bad: what the keys read changed"
    ok "$bad: $(grep -o "failed at [a-z]*" "$c/$bad.out" | head -n 1), then back on 1.1.0, healthy, data identical, exit 4"
  done

  pid=$(cat "$m/run/agentik-test.pid")
  for refusal in "b100:UPDATE_VERSION_BELOW_FLOOR" "b110:UPDATE_SAME_VERSION" "tampered:UPDATE_FILE_MISMATCH"; do
    rc=0; upd apply --source "/media/${refusal%%:*}.tar.gz" >"$c/refused.out" 2>&1 || rc=$?
    [ "$rc" = 3 ] || fail "${refusal%%:*}: exit $rc, not 3: $(cat "$c/refused.out")"
    grep -q "^${refusal#*:}" "$c/refused.out" || fail "${refusal%%:*}: expected ${refusal#*:}: $(cat "$c/refused.out")"
    ok "${refusal%%:*} refused before anything stopped: $(grep -m1 "^${refusal#*:}" "$c/refused.out")"
  done
  [ "$(cat "$m/run/agentik-test.pid")" = "$pid" ] || fail "the service was restarted by a refused update"
  ok "nothing stopped: the same server process runs 1.1.0"

  rc=0; upd rollback >"$c/rollback.out" 2>&1 || rc=$?
  [ "$rc" = 3 ] && grep -q "everything written since is lost" "$c/rollback.out" || fail "rollback without --yes: $(cat "$c/rollback.out")"
  upd rollback --yes "${fast[@]}" >"$c/rollback.out" 2>&1 || fail "rollback: $(cat "$c/rollback.out")"
  [ "$(version)" = 1.0.0 ] || fail "on $(version) after the rollback"
  healthy
  [ "$(fp)" = "$f100" ] || fail "1.0.0 does not have 1.0.0 data after the rollback"
  [ "$(sums)" = "$s100" ] || fail "what the keys read changed after the rollback"
  rc=0; upd apply --source /media/b100.tar.gz --reinstall >/dev/null 2>&1 || rc=$?
  [ "$rc" = 3 ] || fail "1.0.0 below the floor was not refused after the rollback"
  ok "rollback: 1.0.0 with 1.0.0 data; the floor stays 1.1.0"

  upd apply --source /media/b110.tar.gz "${fast[@]}" >"$c/apply110.out" 2>&1 || fail "apply 1.1.0 again: $(cat "$c/apply110.out")"
  f110=$(fp)
  steps="lock extract verify install stop backup migrate switch start health commit"
  for s in $steps; do
    rc=0; upd apply --source /media/b120.tar.gz "${fast[@]}" --test-kill-after "$s" >"$c/kill.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] || fail "kill after $s: exit $rc, not 137 (SIGKILL): $(cat "$c/kill.out")"
    if [ "$s" = commit ]; then want=1.2.0; else want=1.1.0; fi
    case "$s" in
      # Alternate the ways back: recover, status, and a power cut (recover --boot before start).
      lock | install | migrate | health) upd recover "${fast[@]}" >"$c/recover.out" 2>&1 || fail "recover after $s: $(cat "$c/recover.out")" ;;
      extract | stop | switch | commit) upd status "${fast[@]}" >"$c/recover.out" 2>&1 || fail "status after $s: $(cat "$c/recover.out")" ;;
      *) chroot "$m" /media/service.sh stop; chroot "$m" /media/service.sh start ;;
    esac
    [ "$(version)" = "$want" ] || fail "after a kill at $s: on $(version), not $want"
    healthy
    [ "$(sums)" = "$s100" ] || fail "after a kill at $s: what the keys read changed"
    if [ "$s" = commit ]; then kept "$f110" "$(fp)" || fail "rows changed by the update to 1.2.0"
    else [ "$(fp)" = "$f110" ] || fail "after a kill at $s: the data differs from 1.1.0 data"; fi
    [ ! -e "$m/var/lib/agentik-os/updates/journal.jsonl" ] || fail "after a kill at $s: the journal is still there"
    ok "SIGKILL after \"$s\", then back: $(version), healthy, its data"
  done
  f120=$(fp)
  rc=0; upd apply --source /media/b130.tar.gz "${fast[@]}" --test-kill-after migrate >/dev/null 2>&1 || rc=$?
  [ "$rc" = 137 ] || fail "kill at migrate of 1.3.0: exit $rc"
  upd apply --source /media/b130.tar.gz "${fast[@]}" >"$c/apply130.out" 2>&1 || fail "apply after a kill: $(cat "$c/apply130.out")"
  [ "$(version)" = 1.3.0 ] || fail "on $(version) after apply ran again"
  healthy
  kept "$f120" "$(fp)" || fail "rows changed by the update to 1.3.0"
  ok "SIGKILL at migrate, then apply again: recovered, then updated to 1.3.0 with all data"
  chroot "$m" /media/service.sh stop
  tail -n 3 "$m/var/lib/agentik-os/updates/audit.log" | sed "s/^/    audit: /"
' "$c"
ok "update test passed in $(( $(date +%s) - started )) s"
