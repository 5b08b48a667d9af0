#!/usr/bin/env bash
# Shared by docker/test-*.sh (sourced). Podman settings, names that cannot collide with other
# runs, cleanup of what a test made (by name), health waits and small assertions.

export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/containers.conf}"
# A prefix for every container, volume and network a test makes: unique per run.
TEST_PREFIX="${TEST_PREFIX:-agentik-test-$$-$RANDOM}"
_cleanup_containers=()
_cleanup_volumes=()
_cleanup_dirs=()

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok   %s\n' "$*"; }
step() { printf "\n== %s  (+%d s)\n" "$*" "$SECONDS"; }

# Registers things to remove on exit (only what this run made, by name).
cleanup_container() { _cleanup_containers+=("$1"); }
cleanup_volume() { _cleanup_volumes+=("$1"); }
cleanup_dir() { _cleanup_dirs+=("$1"); }
run_cleanup() {
  local c v d
  for c in "${_cleanup_containers[@]}"; do podman rm -f -v -t 0 "$c" >/dev/null 2>&1 || true; done
  wait
  for v in "${_cleanup_volumes[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1 || true; done
  for d in "${_cleanup_dirs[@]}"; do rm -rf "$d"; done
}

# podman without its harmless "unable to get systemd connection" lines on stderr.
quiet_podman() { podman "$@" 2> >(grep -v 'systemd' >&2); }

# Waits until the container's own HEALTHCHECK passes: without systemd podman never runs it by
# itself, so this runs it (podman healthcheck run) until it reports healthy.
wait_healthy() { # <container> [timeout seconds]
  local name=$1 timeout=${2:-60} start=$SECONDS
  while ((SECONDS - start < timeout)); do
    if [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
      podman logs --tail 30 "$name" >&2 || true
      fail "$name stopped before it was healthy"
    fi
    if podman healthcheck run "$name" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  podman logs --tail 30 "$name" >&2 || true
  fail "$name not healthy within ${timeout}s"
}

# The effective uid of a container's main process, read on the host (rootful podman, no user
# namespace: the same number as inside; images without ps cannot answer `podman top`).
process_uid() { awk '/^Uid:/ {print $3}' "/proc/$(podman inspect --format '{{.State.Pid}}' "$1")/status"; }

# The host port podman published for a container port: host_port <container> <port>
host_port() { podman port "$1" "$2/tcp" | head -n1 | sed 's/.*://'; }

# Asserts that "$1" contains "$2" (fixed string), naming what was checked ($3).
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-value} does not contain '$2': $(printf '%s' "$1" | head -c 400)" ;; esac; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }

# One response header's value (case-insensitive name), from a `curl -D -` header dump.
header_of() { printf '%s' "$1" | tr -d '\r' | awk -v n="$2" 'BEGIN{FS=": "} tolower($1)==tolower(n) {sub(/^[^:]*: /,""); print; exit}'; }
