#!/usr/bin/env bash
# The images, each on its own (docker/test.sh runs this after docker/build-images.sh):
#   runtime:   metadata (numeric non-root user, Node by path, exec-form HEALTHCHECK, volume, port,
#              OCI labels), no shell/npm/compiler/dashboard inside, healthy by its own HEALTHCHECK
#              with a read-only root and no capabilities, the first-start operator key in the logs,
#              a tenant created, the container removed and started again on the same volume with
#              the tenant still there, `podman stop` under 2 s with exit code 0, a config error
#              (AGENTIK_<NAME>_FILE unreadable) exits 78, `agentik backup` works while it serves;
#   dashboard: healthy, `/` serves the app, a deep link falls back to index.html, cache and
#              security headers, gzip, a missing asset is a 404, /healthz;
#   sizes:     compressed (gzip -6 of `podman save`), unpacked, and what our layers add to the base.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=docker/test-lib.sh
. docker/test-lib.sh
trap run_cleanup EXIT

[ -f docker/.images.env ] || bash docker/build-images.sh >/dev/null
# shellcheck source=/dev/null
. docker/.images.env
# shellcheck source=/dev/null
. docker/.local-bases.env
RUNTIME=$AGENTIK_RUNTIME_IMAGE_ID
DASHBOARD=$AGENTIK_DASHBOARD_IMAGE_ID
SIZES_FILE=${SIZES_FILE:-docker/.test-sizes.txt}

inspect() { podman image inspect --format "$2" "$1"; }

# ---------------------------------------------------------------------------------------------
step "runtime image: metadata"
assert_eq "$(inspect "$RUNTIME" '{{.Config.User}}')" "65532:65532" "runtime user"
assert_eq "$(inspect "$RUNTIME" '{{json .Config.Entrypoint}}')" '["/nodejs/bin/node","/app/packages/runtime/dist/cli/main.js"]' "entrypoint"
assert_eq "$(inspect "$RUNTIME" '{{json .Config.Cmd}}')" '["serve"]' "cmd"
# podman 4.3 shows the health check at the top level (field HealthCheck), not under Config.
assert_contains "$(inspect "$RUNTIME" '{{json .HealthCheck}}')" '"Test":["CMD","/nodejs/bin/node","/app/packages/runtime/dist/cli/main.js","healthcheck"]' "HEALTHCHECK (exec form, node by path)"
env_json=$(inspect "$RUNTIME" '{{json .Config.Env}}')
assert_contains "$env_json" '"AGENTIK_HOST=0.0.0.0"' "env"
assert_contains "$env_json" '"AGENTIK_DATA_DIR=/var/lib/agentik-os"' "env"
assert_contains "$(inspect "$RUNTIME" '{{json .Config.Volumes}}')" '"/var/lib/agentik-os"' "volumes"
assert_contains "$(inspect "$RUNTIME" '{{json .Config.ExposedPorts}}')" '"3000/tcp"' "exposed ports"
labels=$(inspect "$RUNTIME" '{{json .Config.Labels}}')
assert_contains "$labels" '"org.opencontainers.image.licenses":"Apache-2.0"' "labels"
for key in source version revision; do assert_contains "$labels" "\"org.opencontainers.image.$key\":\"" "labels"; done
assert_contains "$labels" "\"org.opencontainers.image.revision\":\"$(git rev-parse HEAD 2>/dev/null || echo unknown)\"" "revision label"
pass "user 65532, node by path, exec-form HEALTHCHECK, volume, port, env, OCI labels"

step "runtime image: contents"
root=$(podman image mount "$RUNTIME")
for f in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash bin/busybox usr/local/bin/npm usr/bin/npm usr/bin/gcc usr/bin/g++ usr/bin/cc usr/bin/make usr/bin/apt-get; do
  [ ! -e "$root/$f" ] || { podman image unmount "$RUNTIME" >/dev/null; fail "runtime image has /$f"; }
done
# Lists first, then grep: with pipefail a producer cut off by 'grep -q' (SIGPIPE) fails the pipeline.
if grep -q . <<<"$(find "$root" -path "$root/proc" -prune -o \( -name npm-cli.js -o -name 'pnpm*.cjs' \) -print)"; then
  podman image unmount "$RUNTIME" >/dev/null; fail "runtime image has npm or pnpm"
fi
[ -x "$root/nodejs/bin/node" ] || fail "no /nodejs/bin/node"
[ ! -e "$root/app/packages/dashboard" ] || fail "dashboard in the runtime image without WITH_DASHBOARD=1"
ls "$root"/app/backends/sqlite/migrations/master/*.sql >/dev/null || fail "no SQLite migrations"
ls "$root"/app/backends/postgres/migrations/master/*.sql >/dev/null || fail "no Postgres migrations"
addon=$(find "$root/app/node_modules/.pnpm" -path '*better-sqlite3/build/Release/better_sqlite3.node')
[ -n "$addon" ] || fail "no compiled better-sqlite3"
if grep -q . <<<"$(find "$root/app/node_modules/.pnpm" -path '*better-sqlite3/deps/*' -o -path '*better-sqlite3/build/Release/obj*')"; then fail "better-sqlite3 build leftovers"; fi
[ "$(stat -c %u "$root/var/lib/agentik-os")" = 65532 ] || fail "/var/lib/agentik-os not owned by 65532"
podman image unmount "$RUNTIME" >/dev/null
assert_eq "$(quiet_podman run --rm --network none --entrypoint /nodejs/bin/node "$RUNTIME" -p 'process.versions.node.split(".")[0]')" 24 "Node major"
if podman run --rm --network none --entrypoint /bin/sh "$RUNTIME" -c true >/dev/null 2>&1; then fail "runtime image runs /bin/sh"; fi
pass "no shell, npm, pnpm, compiler or dashboard; Node 24 at /nodejs/bin/node; better-sqlite3 built, its sources gone; migrations"

step "runtime: a configuration error exits 78 and names the variable"
set +e
out=$(podman run --rm --network none -e AGENTIK_OPERATOR_KEY_FILE=/run/secrets/missing "$RUNTIME" 2>&1)
code=$?
set -e
assert_eq "$code" 78 "exit code of a config error"
assert_contains "$out" "AGENTIK_OPERATOR_KEY_FILE: cannot read /run/secrets/missing (ENOENT)" "config error"
pass "exit 78: $(printf '%s' "$out" | grep -m1 AGENTIK_OPERATOR_KEY_FILE | sed 's/^ *//')"

# ---------------------------------------------------------------------------------------------
step "runtime: first start (read-only root, no capabilities, named volume)"
volume="$TEST_PREFIX-data"
podman volume create "$volume" >/dev/null
cleanup_volume "$volume"
run_runtime() { # <name>
  cleanup_container "$1"
  quiet_podman run -d --name "$1" --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$volume:/var/lib/agentik-os" -p 127.0.0.1::3000 "$RUNTIME" >/dev/null
}
first="$TEST_PREFIX-runtime-1"
run_runtime "$first"
t0=$SECONDS
wait_healthy "$first" 60
assert_eq "$(podman inspect --format '{{.State.Health.Status}}' "$first")" healthy "health status"
pass "healthy by its own HEALTHCHECK after $((SECONDS - t0)) s"
assert_eq "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$first")" true "read-only root"
assert_eq "$(process_uid "$first")" 65532 "process uid"
set +e
ro=$(podman exec "$first" /nodejs/bin/node -e "require('fs').writeFileSync('/app/probe', 'x')" 2>&1)
set -e
assert_contains "$ro" "EROFS" "write outside the volume"
pass "runs as uid 65532, root file system read-only (EROFS outside the volume)"

key=$(podman logs "$first" 2>&1 | grep -A1 'Operator key (shown once' | tail -n1 | tr -d ' \r')
[[ "$key" == agk_* ]] || fail "no operator key in the first start's logs"
pass "first start printed the operator key"
url="http://127.0.0.1:$(host_port "$first" 3000)"
slug="images-$RANDOM"
created=$(curl -fsS -X POST "$url/api/tenants" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d "{\"name\":\"Image test\",\"slug\":\"$slug\",\"owner\":\"ops@example.com\"}")
tenant_id=$(printf '%s' "$created" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
[[ "$tenant_id" == tn_* ]] || fail "tenant not created: $created"
pass "tenant $slug created ($tenant_id)"
metrics=$(curl -fsS "$url/metrics")
for name in agentik_cost_usd_total agentik_tokens_total agentik_model_calls_total agentik_tenants; do
  assert_contains "$metrics" "# TYPE $name " "/metrics"
done
pass "/metrics has the cost and token counters"

step "runtime: agentik backup in the running container"
backup_out=$(podman exec "$first" /nodejs/bin/node /app/packages/runtime/dist/cli/main.js backup --out /tmp/backup-1 2>&1) \
  || fail "backup in the container failed: $backup_out"
assert_contains "$backup_out" "1 tenant stores" "backup output"
podman exec "$first" /nodejs/bin/node -e "const m = JSON.parse(require('fs').readFileSync('/tmp/backup-1/backup.json', 'utf8')); if (!m || typeof m !== 'object') process.exit(1)" \
  || fail "no readable backup.json"
pass "backup --out while serving: $backup_out"

step "runtime: podman stop"
t0=$(date +%s%N)
quiet_podman stop "$first" >/dev/null
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$first")
assert_eq "$exit_code" 0 "exit code after SIGTERM"
((elapsed_ms < 2000)) || fail "podman stop took ${elapsed_ms} ms (limit 2000)"
pass "stopped in ${elapsed_ms} ms, exit code 0"
grep -q '"msg":"shutting down"' <<<"$(podman logs "$first" 2>&1)" || fail "no clean shutdown in the logs"
quiet_podman rm "$first" >/dev/null

step "runtime: a new container on the same volume"
second="$TEST_PREFIX-runtime-2"
run_runtime "$second"
wait_healthy "$second" 60
if grep -q 'Operator key (shown once' <<<"$(podman logs "$second" 2>&1)"; then fail "second start printed a new operator key"; fi
url="http://127.0.0.1:$(host_port "$second" 3000)"
listed=$(curl -fsS "$url/api/tenants" -H "Authorization: Bearer $key")
assert_contains "$listed" "\"$tenant_id\"" "tenants after restart"
assert_contains "$listed" "\"$slug\"" "tenants after restart"
pass "the operator key still works and tenant $slug is still there"
quiet_podman stop "$second" >/dev/null

# ---------------------------------------------------------------------------------------------
if [ -n "${AGENTIK_RUNTIME_WITH_DASHBOARD_IMAGE_ID:-}" ]; then
  step "runtime image with WITH_DASHBOARD=1 serves the dashboard itself"
  combined="$TEST_PREFIX-runtime-dashboard"
  cleanup_container "$combined"
  quiet_podman run -d --name "$combined" --read-only --cap-drop ALL --security-opt no-new-privileges \
    -p 127.0.0.1::3000 "$AGENTIK_RUNTIME_WITH_DASHBOARD_IMAGE_ID" >/dev/null
  wait_healthy "$combined" 60
  curl_url="http://127.0.0.1:$(host_port "$combined" 3000)"
  assert_contains "$(curl -fsS "$curl_url/")" '<div id="root"></div>' "/ of the runtime with the dashboard"
  assert_contains "$(curl -fsS -H 'Accept: text/html' "$curl_url/tenants/x")" '<div id="root"></div>' "deep link"
  pass "/ and a deep link serve the dashboard from the runtime image"
  quiet_podman rm -f -v "$combined" >/dev/null
fi

# ---------------------------------------------------------------------------------------------
step "dashboard image: metadata"
assert_eq "$(inspect "$DASHBOARD" '{{.Config.User}}')" 101 "dashboard user"
assert_contains "$(inspect "$DASHBOARD" '{{json .Config.ExposedPorts}}')" '"8080/tcp"' "exposed ports"
assert_contains "$(inspect "$DASHBOARD" '{{json .HealthCheck}}')" '"Test":["CMD","wget","-q","-O","/dev/null","http://127.0.0.1:8080/healthz"]' "dashboard HEALTHCHECK"
assert_contains "$(inspect "$DASHBOARD" '{{json .Config.Labels}}')" '"org.opencontainers.image.licenses":"Apache-2.0"' "labels"
pass "user 101, port 8080, HEALTHCHECK on /healthz, labels"

step "dashboard: serving"
dash="$TEST_PREFIX-dashboard"
cleanup_container "$dash"
quiet_podman run -d --name "$dash" --read-only --cap-drop ALL --security-opt no-new-privileges -p 127.0.0.1::8080 "$DASHBOARD" >/dev/null
wait_healthy "$dash" 30
assert_eq "$(process_uid "$dash")" 101 "nginx uid"
durl="http://127.0.0.1:$(host_port "$dash" 8080)"
index=$(curl -fsS "$durl/")
assert_contains "$index" '<div id="root"></div>' "/"
headers=$(curl -fsS -o /dev/null -D - "$durl/")
assert_contains "$(header_of "$headers" Content-Security-Policy)" "frame-ancestors 'none'" "CSP"
assert_contains "$(header_of "$headers" Content-Security-Policy)" "default-src 'self'" "CSP"
assert_eq "$(header_of "$headers" X-Content-Type-Options)" nosniff "X-Content-Type-Options"
assert_contains "$(header_of "$headers" Cache-Control)" "no-cache" "index.html Cache-Control"
pass "/ serves index.html with CSP (frame-ancestors 'none'), nosniff, no-cache"
deep=$(curl -fsS -H 'Accept: text/html' "$durl/tenants/ten_x/agents/ag_y")
assert_eq "$deep" "$index" "deep link body"
deep_headers=$(curl -fsS -o /dev/null -D - "$durl/tenants/ten_x/agents/ag_y")
assert_contains "$(header_of "$deep_headers" Cache-Control)" "no-cache" "deep link Cache-Control"
assert_contains "$(header_of "$deep_headers" Content-Security-Policy)" "frame-ancestors 'none'" "deep link CSP"
pass "a deep link falls back to index.html, uncached"
asset=$(printf '%s' "$index" | grep -o '/assets/[^"]*\.js' | head -n1)
[ -n "$asset" ] || fail "no hashed script in index.html"
asset_headers=$(curl -fsS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$durl$asset")
assert_eq "$(header_of "$asset_headers" Cache-Control)" "public, max-age=31536000, immutable" "asset Cache-Control"
assert_eq "$(header_of "$asset_headers" Content-Encoding)" gzip "asset Content-Encoding"
assert_eq "$(header_of "$asset_headers" X-Content-Type-Options)" nosniff "asset nosniff"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$durl/assets/index-missing.js")" 404 "missing asset"
assert_eq "$(curl -fsS "$durl/healthz")" ok "/healthz"
pass "hashed assets: a year, immutable, gzip; a missing asset is 404; /healthz"
quiet_podman stop "$dash" >/dev/null

# ---------------------------------------------------------------------------------------------
step "image sizes"
# size_report <label> <image> <base>: compressed = gzip -6 of `podman save` (about what a push
# sends), unpacked = podman's size; "ours" = the layers that are not the base's.
size_report() {
  local label=$1 image=$2 base=$3 dir layers base_layers ours_c=0 ours_u=0 layer compressed unpacked
  dir=$(mktemp -d)
  cleanup_dir "$dir"
  podman save --format docker-archive -o "$dir/image.tar" "$image" 2>/dev/null
  compressed=$(gzip -6 -n <"$dir/image.tar" | wc -c)
  unpacked=$(inspect "$image" '{{.Size}}')
  base_layers=$(inspect "$base" '{{range .RootFS.Layers}}{{println .}}{{end}}')
  layers=$(inspect "$image" '{{range .RootFS.Layers}}{{println .}}{{end}}')
  for layer in $layers; do
    grep -qx "$layer" <<<"$base_layers" && continue
    tar -xf "$dir/image.tar" -C "$dir" "${layer#sha256:}.tar"
    ours_u=$((ours_u + $(stat -c %s "$dir/${layer#sha256:}.tar")))
    ours_c=$((ours_c + $(gzip -6 -n <"$dir/${layer#sha256:}.tar" | wc -c)))
  done
  rm -f "$dir/image.tar"
  awk -v l="$label" -v c="$compressed" -v u="$unpacked" -v oc="$ours_c" -v ou="$ours_u" 'BEGIN {
    printf "%-10s compressed %6.1f MB  unpacked %6.1f MB  our layers %6.2f MB compressed, %6.2f MB unpacked\n", l, c / 1e6, u / 1e6, oc / 1e6, ou / 1e6
  }'
}
{
  size_report runtime "$RUNTIME" "$RUNTIME_IMAGE"
  size_report dashboard "$DASHBOARD" "$NGINX_IMAGE"
} | tee "$SIZES_FILE"
runtime_compressed=$(awk '/^runtime/ {print $3}' "$SIZES_FILE")
dashboard_ours=$(awk '/^dashboard/ {print $10}' "$SIZES_FILE")
awk -v v="$runtime_compressed" 'BEGIN { exit !(v < 100) }' || fail "runtime image ${runtime_compressed} MB compressed (bound 100 MB)"
awk -v v="$dashboard_ours" 'BEGIN { exit !(v < 2) }' || fail "dashboard layers ${dashboard_ours} MB over the nginx base (bound 2 MB)"
pass "runtime under 100 MB compressed; dashboard layers under 2 MB over nginx"
echo
echo "docker/test-images.sh: all passed"
