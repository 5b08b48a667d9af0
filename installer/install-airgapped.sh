#!/usr/bin/env bash
# Installs Agentik OS from a signed offline bundle, on a machine with no network, as root:
#   install-airgapped.sh --bundle agentik-os-<version>-linux-<arch>.tar.gz --trusted-key KEYFILE
#                        [--port 3000] [--ollama-models DIR]
# Needs only what a minimal Debian or RHEL has: bash, coreutils, findutils, tar, gzip, gpgv, sed,
# grep, awk, useradd, setpriv (util-linux). There is no switch to skip verification: the bundle
# must be signed by a key in KEYFILE (delivered to you out of band, never taken from the medium).
# Verify this script itself before running it: docs/air-gapped.md, "Verify".
set -euo pipefail
umask 022
export LC_ALL=C

PREFIX=/opt/agentik-os
DATA=/var/lib/agentik-os
ETC=/etc/agentik-os
UNIT=/etc/systemd/system/agentik-os.service
SERVICE_USER=agentik
DEFAULT_MODELS=/usr/share/ollama/.ollama/models

say() { printf '%s\n' "$*"; }
die() { printf 'install-airgapped: %s\n' "$*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
# The build inlines this file here, so the shipped installer is a single file.
# shellcheck source=installer/lib/bundle-verify.sh
. "$here/lib/bundle-verify.sh" # @inline lib/bundle-verify.sh

bundle='' key='' port=3000 models_dir="$DEFAULT_MODELS"
usage='usage: install-airgapped.sh --bundle FILE --trusted-key KEYFILE [--port 3000] [--ollama-models DIR]'
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=${2:?--bundle needs a file}; shift 2 ;;
    --trusted-key) key=${2:?--trusted-key needs a file}; shift 2 ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --ollama-models) models_dir=${2:?--ollama-models needs a folder}; shift 2 ;;
    -h | --help) say "$usage"; exit 0 ;;
    *) printf '%s\n' "install-airgapped: unknown argument $1" "$usage" >&2; exit 2 ;;
  esac
done
if [ -z "$bundle" ] || [ -z "$key" ]; then
  printf '%s\n' "$usage" >&2
  exit 2
fi

# ---- Preflight: nothing is written before these pass. ----
[ "$(id -u)" = 0 ] || die 'refused: run as root (the installer creates a user, /opt/agentik-os and a systemd unit)'
machine=$(bundle_machine_arch)
case "$machine" in x64 | arm64) ;; *) die "refused: unsupported machine architecture $machine (x64 or arm64)" ;; esac
if [ ! -f "$bundle" ] || [ ! -r "$bundle" ]; then die "refused: cannot read the bundle $bundle"; fi
if [ ! -f "$key" ] || [ ! -r "$key" ]; then die "refused: cannot read the trusted key $key"; fi
case "$port" in '' | *[!0-9]*) die "refused: --port $port is not a number" ;; esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then die "refused: --port $port is out of range"; fi
for tool in tar gzip gpgv sha256sum awk sed grep find stat useradd setpriv od base64 comm; do
  command -v "$tool" >/dev/null 2>&1 || die "refused: $tool is missing (needed to verify and install)"
done
bundle=$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")
key=$(cd "$(dirname "$key")" && pwd)/$(basename "$key")

# Free space: twice the bundle where it is unpacked (staging) and where it is installed.
bundle_kb=$(( $(stat -c %s "$bundle") / 1024 + 1 ))
staging_parent=${TMPDIR:-/var/tmp}
free_kb() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }
existing_parent() { local d=$1; while [ ! -d "$d" ]; do d=$(dirname "$d"); done; printf '%s\n' "$d"; }
for target in "$staging_parent" "$(existing_parent "$PREFIX")"; do
  avail=$(free_kb "$target")
  [ "$avail" -ge $(( bundle_kb * 2 )) ] ||
    die "refused: not enough free disk in $target: ${avail} KiB free, $(( bundle_kb * 2 )) KiB needed (twice the bundle)"
done

installed=''
if [ -L "$PREFIX/current" ]; then
  installed=$(basename "$(readlink "$PREFIX/current")")
fi

# A TCP port is in use when /proc/net/tcp{,6} has it in state 0A (LISTEN).
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'
}
if [ -z "$installed" ] && port_in_use "$port"; then
  die "refused: port $port is already in use (choose another with --port)"
fi

# ---- Verify, in a private staging folder removed on exit. ----
staging=$(mktemp -d "$staging_parent/agentik-os-install.XXXXXX")
created=()
rollback() {
  local i
  for (( i = ${#created[@]} - 1; i >= 0; i-- )); do
    case "${created[$i]}" in
      user:*) userdel "${created[$i]#user:}" >/dev/null 2>&1 || true ;;
      *) rm -rf "${created[$i]}" ;;
    esac
  done
}
finish() {
  local rc=$?
  if [ "$rc" != 0 ] && [ ${#created[@]} -gt 0 ]; then
    printf 'install-airgapped: failed; removing what this run installed\n' >&2
    rollback
  fi
  rm -rf "$staging"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

say "Verifying $(basename "$bundle") against the trusted key $key ..."
bundle_verify "$bundle" "$key" "$staging" || die "the bundle was not installed; nothing was changed"
version=$BUNDLE_VERSION
say "  signature good; ${BUNDLE_ARCH} bundle, version $version, $(printf '%s\n' "$BUNDLE_FILES" | wc -l) files with matching sha256"

if [ -n "$installed" ]; then
  if [ "$installed" = "$version" ]; then
    say "Agentik OS $version is already installed in $PREFIX/releases/$version: nothing changed."
    exit 0
  fi
  die "refused: Agentik OS $installed is installed; $version is a different version. Use the offline updater (agentik update, docs/air-gapped.md) to change versions; nothing was changed."
fi
for path in "$PREFIX" "$UNIT" "$ETC/agentik.env"; do
  [ ! -e "$path" ] || die "refused: $path exists but no release is installed (a failed earlier install?); remove it and retry"
done
if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
  die "refused: $DATA holds data but no release is installed; restore the release or move the data away first"
fi

# ---- Install. From here on, a failure removes what this run created. ----
say "Installing Agentik OS $version ..."
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  useradd --system --user-group --home-dir "$DATA" --no-create-home --shell "$nologin" \
    --comment 'Agentik OS service' "$SERVICE_USER"
  created+=("user:$SERVICE_USER")
fi

created+=("$PREFIX")
mkdir -p "$PREFIX/releases"
cp -R "$BUNDLE_DIR" "$PREFIX/releases/.$version.partial"
mv "$PREFIX/releases/.$version.partial" "$PREFIX/releases/$version"
chown -R root:root "$PREFIX"
# `current` moves by rename(2), never by unlink-then-link, so it always names a whole release.
ln -s "releases/$version" "$PREFIX/.current.new"
mv -T "$PREFIX/.current.new" "$PREFIX/current"
release="$PREFIX/releases/$version"

if [ ! -d "$DATA" ]; then created+=("$DATA"); fi
mkdir -p "$DATA"
chown "$SERVICE_USER:$SERVICE_USER" "$DATA"
chmod 0700 "$DATA"

if [ ! -d "$ETC" ]; then created+=("$ETC"); fi
mkdir -p "$ETC/trusted-keys"
chmod 0755 "$ETC" "$ETC/trusted-keys"
install -m 0644 -o root -g root "$key" "$ETC/trusted-keys/$(basename "$key")"

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
env_file="$ETC/agentik.env"
created+=("$env_file")
umask 027
cat >"$env_file.new" <<EOF
# Agentik OS settings, read by agentik-os.service (README.md lists every AGENTIK_* setting).
AGENTIK_HOST=127.0.0.1
AGENTIK_PORT=$port
AGENTIK_DATA_DIR=$DATA
AGENTIK_STORAGE=sqlite
AGENTIK_OLLAMA_URL=http://127.0.0.1:11434
AGENTIK_LOG_LEVEL=info
# Encrypts tenant provider keys at rest; back it up with the data (without it they are lost).
AGENTIK_ENCRYPTION_KEY=$(random_hex 32)
EOF
umask 022
chown root:"$SERVICE_USER" "$env_file.new"
chmod 0640 "$env_file.new"
mv "$env_file.new" "$env_file"

# The first operator key: 256 bits from the kernel's CSPRNG, in the runtime's agk_ format.
operator_key="agk_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
created+=("$ETC/operator.key")
(umask 077 && printf '%s\n' "$operator_key" >"$ETC/operator.key")
chown root:root "$ETC/operator.key"
chmod 0600 "$ETC/operator.key"

# Runs the release's executable as the service user with the unit's settings.
as_service() {
  (
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
    cd "$DATA"
    exec setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups --inh-caps=-all \
      env HOME="$DATA" "$@"
  )
}

# Migrations before the unit is enabled. The operator key reaches the runtime only through this
# one process's environment: `migrate` adopts AGENTIK_OPERATOR_KEY when no operator key exists,
# so the key never sits in agentik.env.
say "Running migrations as $SERVICE_USER ..."
if ! AGENTIK_OPERATOR_KEY=$operator_key as_service "$PREFIX/current/bin/agentik" migrate >"$staging/migrate.log" 2>&1; then
  sed 's/^/  /' "$staging/migrate.log" >&2
  die "agentik migrate failed (output above)"
fi
sed 's/^/  /' "$staging/migrate.log"

# Models, into the Ollama store with that folder's owner.
if [ -d "$release/models/manifests" ]; then
  owner=root
  if [ -d "$models_dir" ]; then owner=$(stat -c %U "$models_dir");
  elif getent passwd ollama >/dev/null; then owner=ollama; fi
  group=$(id -gn "$owner")
  say "Copying models into $models_dir (owner $owner) ..."
  if [ ! -d "$models_dir" ]; then
    first_new=$models_dir
    while [ ! -d "$(dirname "$first_new")" ]; do first_new=$(dirname "$first_new"); done
    created+=("$first_new")
  fi
  (
    cd "$release/models"
    find manifests blobs -type d | while read -r d; do
      install -d -m 0755 -o "$owner" -g "$group" "$models_dir/$d"
    done
    find manifests blobs -type f | while read -r f; do
      # A blob is named by its sha256 (verified above), so one already there is the same bytes.
      if [ -f "$models_dir/$f" ] && [ "${f#blobs/}" != "$f" ]; then continue; fi
      install -m 0644 -o "$owner" -g "$group" "$f" "$models_dir/$f"
    done
  )
  for m in "$release"/models/manifests/registry.ollama.ai/library/*/*; do
    say "  $(basename "$(dirname "$m")"):$(basename "$m")"
  done
fi

created+=("$UNIT")
install -m 0644 -o root -g root "$release/agentik-os.service" "$UNIT"
created=()
say "Installed Agentik OS $version in $release ($PREFIX/current)."

url="http://127.0.0.1:$port"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  started=$(date +%s)
  systemctl daemon-reload
  systemctl enable --now agentik-os.service
  say "Waiting for $url/ready ..."
  ready=''
  for _ in $(seq 1 60); do
    if as_service "$PREFIX/current/bin/agentik" healthcheck >/dev/null 2>&1; then ready=yes; break; fi
    sleep 1
  done
  [ -n "$ready" ] || die "agentik-os.service did not become ready within 60 s: see journalctl -u agentik-os"
  say "Ready after $(( $(date +%s) - started )) s."
else
  say 'systemd is not running here (a container or chroot): start the runtime with'
  say "  setpriv --reuid=$SERVICE_USER --regid=$SERVICE_USER --init-groups sh -c 'set -a; . $env_file; exec $PREFIX/current/bin/agentik serve'"
  say 'or, on a host with systemd: systemctl daemon-reload && systemctl enable --now agentik-os'
fi

cat <<EOF

Next steps
  Dashboard:    $url/  (listening on 127.0.0.1; put a TLS proxy in front to reach it from elsewhere)
  Operator key: $ETC/operator.key (root only). It is shown once here; keep it somewhere safe:
                $operator_key
  Create a tenant:
    curl -X POST $url/api/tenants -H "authorization: Bearer \$(cat $ETC/operator.key)" \\
      -H 'content-type: application/json' -d '{"name": "Acme", "owner": "ops@acme.example"}'
  or, on this machine:
    setpriv --reuid=$SERVICE_USER --regid=$SERVICE_USER --init-groups sh -c \\
      'set -a; . $env_file; exec $PREFIX/current/bin/agentik tenant create --name Acme --owner ops@acme.example'
  Settings:     $env_file (then systemctl restart agentik-os)
  Back up:      $DATA and $ETC (docs/air-gapped.md, "Back up")
EOF
