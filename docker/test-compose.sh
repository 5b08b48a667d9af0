#!/usr/bin/env bash
# The Compose stack, for real, on a machine without a Docker engine (called by docker/test.sh;
# runs alone too). Needs root, podman, docker-compose (v1.29, Debian's), CNI's dnsname plugin,
# promtool, curl, openssl; installs what is missing.
#   1. static: `docker-compose config -q` for every profile and the hardening of every service
#      (docker/compose-hardening.test.mjs);
#   2. docker-compose against podman's Docker API socket brings up docker-compose.prod.yml,
#      unchanged, with an override that only swaps in local images (plus the test's fake model
#      server), self-signed TLS: certs, runtime, dashboard, proxy and Prometheus healthy, each
#      started after what it depends on was healthy; through https://127.0.0.1:<port>/ the proxy
#      redirects HTTP, serves the dashboard and the API, streams SSE event by event, keeps the
#      body limit and logs JSON; a tenant is created and an agent answers; Prometheus finds the
#      runtime up and every metric the Grafana dashboards name exists; the backup service writes
#      ./backups/<date>/ and that copy restores into a fresh volume with the tenant intact;
#   3. the postgres profile: Postgres and Redis (local images from Debian's packages) and two
#      runtime replicas behind the proxy, both serving one set of tenants; backup-postgres dumps.
# Grafana is not run (its image cannot be had here); its provisioning is checked statically.
# Images: AGENTIK_TEST_RUNTIME_IMAGE and AGENTIK_TEST_DASHBOARD_IMAGE if set, else the ones
# docker/build-images.sh builds from the unchanged Dockerfiles on the local bases.
# Everything it makes is named agentik-test-compose-<random> and removed by name at the end.
#   bash docker/test-compose.sh [all|static|default|postgres]     (default: all)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
repo=$PWD
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/docker/containers.conf}"

part=${1:-all}
case $part in all | static | default | postgres) ;; *) echo "usage: $0 [all|static|default|postgres]" >&2; exit 2 ;; esac
started=$(date +%s)
log() { printf 'test-compose: [%3ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

# ---- prerequisites ----------------------------------------------------------------------------
need_apt=()
command -v podman >/dev/null 2>&1 || need_apt+=(podman buildah runc)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
[ -x /usr/lib/cni/dnsname ] || need_apt+=(golang-github-containernetworking-plugin-dnsname)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# ---- 1. static checks ---------------------------------------------------------------------------
log "static: docker-compose config for every profile, hardening of every service"
node --test --test-reporter=dot docker/compose-hardening.test.mjs >&2 || fail "docker/compose-hardening.test.mjs"
for script in docker/init-secrets.sh docker/nginx/entrypoint.sh docker/tls/certs.sh docker/postgres/*.sh docker/postgres/initdb/*.sh; do
  sh -n "$script" || fail "$script: syntax"
done

[ "$part" != static ] || exit 0

# ---- images -----------------------------------------------------------------------------------
[ -s docker/.local-bases.env ] || bash docker/local-bases.sh >/dev/null
# shellcheck disable=SC1091 # written by docker/local-bases.sh
. docker/.local-bases.env
podman image exists "$NGINX_IMAGE" || bash docker/local-bases.sh >/dev/null
# shellcheck disable=SC1091
. docker/.local-bases.env
debian_tar=$(bash scripts/debian-base.sh)
debian_image="localhost/agentik-base-debian:$(sha256sum <"$debian_tar" | cut -c1-16)"
podman image exists "$debian_image" || podman import --quiet --change 'CMD ["/bin/bash"]' "$debian_tar" "$debian_image" >/dev/null

if [ -z "${AGENTIK_TEST_RUNTIME_IMAGE:-}" ] || [ -z "${AGENTIK_TEST_DASHBOARD_IMAGE:-}" ]; then
  bash docker/build-images.sh >/dev/null
  # shellcheck disable=SC1091 # written by docker/build-images.sh
  . docker/.images.env
fi
runtime_image=${AGENTIK_TEST_RUNTIME_IMAGE:-$AGENTIK_RUNTIME_IMAGE}
dashboard_image=${AGENTIK_TEST_DASHBOARD_IMAGE:-$AGENTIK_DASHBOARD_IMAGE}
log "local stand-ins for certbot, postgres, redis, prometheus"
eval "$(bash docker/compose-test/local-images.sh "$debian_image" "$NGINX_IMAGE")"

# ---- podman's Docker API, the staged stack --------------------------------------------------------
work=$(mktemp -d -t agentik-test-compose.XXXXXX)
chmod 0755 "$work"
suffix=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
project="agentik-test-compose-$suffix"
pids=()
projects=()
cleanup() {
  local status=$?
  set +e
  for p in "${projects[@]}"; do
    (cd "$work/stack" && COMPOSE_PROJECT_NAME=$p docker-compose -f docker-compose.prod.yml -f docker-compose.local.yml \
      --profile postgres --profile monitoring --profile tools down -v --remove-orphans -t 5 >/dev/null 2>&1)
    for c in $(podman ps -a --filter "label=com.docker.compose.project=$p" --format '{{.Names}}'); do podman rm -f "$c" >/dev/null 2>&1; done
    for v in $(podman volume ls --filter "label=com.docker.compose.project=$p" --format '{{.Name}}'); do podman volume rm -f "$v" >/dev/null 2>&1; done
    podman network rm -f "${p}_default" >/dev/null 2>&1
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
  if [ $status -eq 0 ]; then log "passed"; else log "failed (exit $status)"; fi
  exit $status
}
trap cleanup EXIT

podman system service --time=0 "unix://$work/podman.sock" 2>/dev/null &
pids+=($!)
export DOCKER_HOST="unix://$work/podman.sock"
for _ in $(seq 50); do curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null || fail "podman's API socket did not come up"

# The operator's layout: the compose file and its config folders, unchanged, in a folder of its own.
stack="$work/stack"
mkdir -p "$stack/backups" "$stack/certs" "$stack/fake"
cp -a docker/docker-compose.prod.yml docker/init-secrets.sh docker/nginx docker/tls docker/postgres docker/prometheus docker/grafana "$stack/"
cp docker/compose-test/fake-openai.mjs "$stack/fake/"
chown 65532:65532 "$stack/backups"
(cd "$stack" && sh ./init-secrets.sh >/dev/null)
cat >"$stack/docker-compose.local.yml" <<EOF
# Only the images change: local ones, made without a registry. fake-llm is the test's model server.
services:
  certs: {image: "$CERTBOT_IMAGE"}
  proxy: {image: "$PROXY_IMAGE"}
  runtime: {image: "$runtime_image"}
  dashboard: {image: "$dashboard_image"}
  postgres: {image: "$POSTGRES_IMAGE"}
  redis: {image: "$REDIS_IMAGE"}
  runtime-2: {image: "$runtime_image"}
  prometheus: {image: "$PROMETHEUS_IMAGE"}
  backup: {image: "$runtime_image"}
  backup-postgres: {image: "$POSTGRES_IMAGE"}
  fake-llm:
    image: "$runtime_image"
    entrypoint: ["/nodejs/bin/node", "/fake/fake-openai.mjs"]
    volumes: ["./fake/fake-openai.mjs:/fake/fake-openai.mjs:ro"]
    read_only: true
    healthcheck:
      test: ["CMD", "/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
      interval: 5s
EOF

free_port() {
  local port
  while :; do
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
    ss -Hltn "sport = :$port" | grep -q . || { printf '%s\n' "$port"; return; }
  done
}
http_port=$(free_port)
https_port=$(free_port)

# Writes the stack's .env for one run: what an operator would put there, on loopback ports.
write_env() { # PROJECT EXTRA_LINES...
  local p=$1
  shift
  {
    echo "COMPOSE_PROJECT_NAME=$p"
    echo "BIND_ADDRESS=127.0.0.1"
    echo "HTTP_PORT=$http_port"
    echo "HTTPS_PORT=$https_port"
    echo "TLS_MODE=${tls_mode:-selfsigned}"
    echo "CERTS_CHECK_SECONDS=2"
    echo "CERT_CHECK_SECONDS=2"
    echo "DOMAIN=localhost"
    echo "AGENTIK_OPENAI_BASE_URL=http://fake-llm:8080/v1"
    echo "AGENTIK_METRICS_TENANT_LABELS=true"
    echo "PROMETHEUS_RETENTION_TIME=1d"
    printf '%s\n' "$@"
  } >"$stack/.env"
}
dc() { (cd "$stack" && docker-compose -f docker-compose.prod.yml -f docker-compose.local.yml "$@"); }
# docker-compose ARGS (an `up -d`) with a time limit; its output is shown when it fails.
dc_up() { # LOG_NAME ARGS...
  local out="$work/$1.log"
  shift
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 420 bash -c 'cd "$1" && shift && docker-compose -f docker-compose.prod.yml -f docker-compose.local.yml "$@"' _ "$stack" "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; fail "docker-compose $*"; }
}

# podman runs no health checks without systemd: run them for the project's containers meanwhile.
# The first passing check of each container is noted (the time just before it ran): podman keeps
# only the last few results, and the start order is checked against these.
health_loop() { # PROJECT
  local since
  while :; do
    for c in $(podman ps --filter "label=com.docker.compose.project=$1" --format '{{.Names}}' 2>/dev/null); do
      since=$(date +%s%3N)
      if podman healthcheck run "$c" >/dev/null 2>&1 && ! grep -q "^$c " "$work/healthy-$1" 2>/dev/null; then
        echo "$c $since" >>"$work/healthy-$1"
      fi
    done
    sleep 2
  done
}

# Checks that each service started only after every service it depends on was healthy.
check_start_order() { # PROJECT
  local ids
  ids=$(podman ps -a -q --filter "label=com.docker.compose.project=$1")
  # shellcheck disable=SC2086
  # shellcheck disable=SC2016 # JavaScript, not shell
  podman inspect $ids | node -e '
    const all = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const byService = {};
    for (const c of all) byService[c.Config.Labels["com.docker.compose.service"]] = c;
    const firstHealthy = new Map(require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => l.split(" ")));
    const healthyAt = (c) => Number(firstHealthy.get(c.Name.replace(/^\//, "")) ?? Infinity);
    const deps = JSON.parse(process.argv[1]);
    let bad = 0;
    for (const [svc, needs] of Object.entries(deps)) {
      const c = byService[svc];
      if (!c) continue;
      for (const dep of needs) {
        const d = byService[dep];
        const ok = d && Date.parse(c.State.StartedAt) >= healthyAt(d);
        const first = d && Number.isFinite(healthyAt(d)) ? new Date(healthyAt(d)).toISOString() : "none";
        const detail = ok ? "" : ` (${dep}: first passing check ${first}, restarts ${d?.RestartCount})`;
        console.error(`test-compose:   ${svc} started ${c.State.StartedAt} after ${dep} healthy: ${ok}${detail}`);
        if (!ok) bad++;
      }
    }
    process.exit(bad ? 1 : 0);
  ' '{"proxy":["certs","runtime","dashboard"],"prometheus":["runtime"],"runtime-2":["postgres","redis"]}' "$work/healthy-$1"
}

# Waits until every listed service's container is running and healthy.
wait_healthy() { # PROJECT SERVICE...
  local p=$1 deadline=$((SECONDS + 240)) svc status
  shift
  for svc in "$@"; do
    while :; do
      status=$(podman ps --filter "label=com.docker.compose.project=$p" --filter "label=com.docker.compose.service=$svc" --format '{{.Status}}' | head -n1)
      case $status in *"(healthy)"*) break ;; esac
      if [ $SECONDS -ge $deadline ]; then
        podman logs --tail 40 "$(container_of "$p" "$svc")" >&2 || true
        fail "$svc is not healthy: '$status'"
      fi
      sleep 1
    done
  done
}

container_of() { podman ps -q --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" | head -n1; }

# TLS_MODE=provided: the operator's certificate pair in ./certs (self-signed here, named N).
provide_cert() { # N
  openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes -subj "/CN=agentik-provided-$1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$stack/certs/privkey.pem.new" -out "$stack/certs/fullchain.pem.new" 2>/dev/null
  mv "$stack/certs/privkey.pem.new" "$stack/certs/privkey.pem"
  mv "$stack/certs/fullchain.pem.new" "$stack/certs/fullchain.pem"
}
served_cn() {
  openssl s_client -connect "127.0.0.1:$https_port" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= *//p'
}

base="https://127.0.0.1:$https_port"
c_url() { curl -sS --cacert "$work/ca.pem" --max-time 20 "$@"; }
api() { # METHOD PATH [JSON]: prints the body; fails unless 2xx
  local out code tenant=()
  case $2 in /api/tenants*) ;; *) tenant=(-H 'X-Tenant-ID: acme') ;; esac
  out=$(c_url -X "$1" -H "Authorization: Bearer $operator_key" "${tenant[@]}" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} -w '\n%{http_code}' "$base$2")
  code=${out##*$'\n'}
  [ "${code:0:1}" = 2 ] || fail "$1 $2 -> $code: ${out%$'\n'*}"
  printf '%s\n' "${out%$'\n'*}"
}
json() { node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }

operator_key_of() { # PROJECT SERVICE...: the key the runtime printed on first start
  local p=$1
  shift
  COMPOSE_PROJECT_NAME=$p dc logs --no-color "$@" 2>/dev/null | grep -A1 'Operator key (shown once' | grep -o 'agk_[A-Za-z0-9_-]*' | head -n1
}

# ---- 2. the default stack, self-signed, with Prometheus ------------------------------------------
default_stack() {
  log "proxy refuses a second replica while the runtime is on SQLite"
  guard=$(podman run --rm --read-only --cap-drop ALL --add-host runtime-2:127.0.0.1 -e AGENTIK_STORAGE=sqlite \
    -v "$repo/docker/nginx/entrypoint.sh:/etc/nginx/agentik/entrypoint.sh:ro" --entrypoint /bin/sh "$PROXY_IMAGE" \
    /etc/nginx/agentik/entrypoint.sh 2>&1) && fail "the proxy started with runtime-2 and AGENTIK_STORAGE=sqlite"
  grep -q 'refusing to serve.*AGENTIK_STORAGE=postgres' <<<"$guard" || fail "the proxy's refusal: $guard"

  projects+=("$project")
  write_env "$project"
  health_loop "$project" &
  pids+=($!)
  log "up: certs, runtime, dashboard, proxy, prometheus ($project)"
  up_start=$SECONDS
  dc_up up --profile monitoring up -d fake-llm proxy prometheus
  wait_healthy "$project" certs runtime dashboard proxy prometheus
  log "stack healthy after $((SECONDS - up_start))s"
  check_start_order "$project" || fail "a service started before its dependency was healthy"

  podman exec "$(container_of "$project" proxy)" cat /etc/agentik-certs/live/fullchain.pem >"$work/ca.pem"
  openssl x509 -in "$work/ca.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' || fail "self-signed certificate lacks 127.0.0.1"

  log "proxy: redirect, ACME path, TLS versions, HSTS, request ids, dashboard, API, body limit"
  redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/api/tenants?x=1")
  [ "$redirect" = "301 https://127.0.0.1/api/tenants?x=1" ] || fail "HTTP redirect: $redirect"
  acme=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/.well-known/acme-challenge/none")
  [ "$acme" = 404 ] || fail "ACME challenge path must be served over HTTP, got $acme"
  c_url --tls-max 1.1 -o /dev/null "$base/" 2>/dev/null && fail "TLS 1.1 accepted"
  c_url --tlsv1.2 --tls-max 1.2 -o /dev/null "$base/health" || fail "TLS 1.2 refused"
  c_url --tlsv1.3 -o /dev/null "$base/health" || fail "TLS 1.3 refused"
  headers=$(c_url -D - -o "$work/index.html" "$base/")
  grep -qi '^strict-transport-security: max-age=63072000' <<<"$headers" || fail "no HSTS: $headers"
  grep -qi '^x-request-id: [0-9a-f]\{32\}' <<<"$headers" || fail "no request id: $headers"
  grep -qi '<div id="root">\|<script' "$work/index.html" || fail "/ did not serve the dashboard"
  deep=$(c_url -o /dev/null -w '%{http_code}' "$base/tenants/some/deep/link")
  [ "$deep" = 200 ] || fail "dashboard deep link: $deep"
  [ "$(c_url "$base/health" | json 'v.status')" = ok ] || fail "/health through the proxy"
  [ "$(c_url -o /dev/null -w '%{http_code}' "$base/ready")" = 200 ] || fail "/ready through the proxy"
  [ "$(c_url -o /dev/null -w '%{http_code}' "$base/metrics")" = 404 ] || fail "/metrics must not be public"
  unauthenticated=$(c_url "$base/api/agents" | json 'v.error.code')
  [ "$unauthenticated" = UNAUTHENTICATED ] || fail "API error through the proxy: $unauthenticated"
  head -c $((1048576 + 1024)) /dev/zero | tr '\0' 'a' >"$work/big.json"
  big=$(c_url -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@$work/big.json" "$base/api/tenants")
  [ "$big" = 413 ] || fail "a body over 1 MiB must get 413 from the proxy, got $big"
  access=$(dc logs --no-color proxy 2>/dev/null | grep -o '{"time":.*' | tail -n1)
  node -e 'const l=JSON.parse(process.argv[1]); if(!/^[0-9a-f]{32}$/.test(l.request_id)||typeof l.status!=="number") process.exit(1)' "$access" ||
    fail "proxy access log is not JSON with a request id: $access"

  log "tenant, agent, a reply; SSE streams through the proxy event by event"
  operator_key=$(operator_key_of "$project" runtime)
  [ -n "$operator_key" ] || fail "no operator key in the runtime's logs"
  api POST /api/tenants '{"name":"Acme","slug":"acme","owner":"ops@acme.example"}' >/dev/null
  agent_id=$(api POST /api/agents '{"name":"support","systemPrompt":"You help.","provider":"openai-compatible","model":"fake-model"}' | json 'v.id')
  reply=$(api POST "/api/agents/$agent_id/messages" '{"content":"Hello?"}')
  grep -q 'Hello from the fake model.' <<<"$reply" || fail "agent reply: $reply"
  # Each SSE line with the time it arrived; the fake model writes a token every 400 ms.
  c_url -N -X POST -H "Authorization: Bearer $operator_key" -H 'X-Tenant-ID: acme' -H 'Content-Type: application/json' \
    -H 'Accept: text/event-stream' --data '{"content":"Stream, please."}' "$base/api/agents/$agent_id/messages" |
    while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$work/sse.log"
  grep -c '^[0-9]* event: delta' "$work/sse.log" | grep -qx '[4-9]' || fail "SSE: expected the deltas: $(cat "$work/sse.log")"
  grep -q '^[0-9]* event: done' "$work/sse.log" || fail "SSE: no done event"
  first=$(grep '^[0-9]* event: delta' "$work/sse.log" | head -n1 | cut -d' ' -f1)
  last=$(grep '^[0-9]* event: delta' "$work/sse.log" | tail -n1 | cut -d' ' -f1)
  [ $((last - first)) -ge 1200 ] || fail "SSE was buffered: first and last delta $((last - first)) ms apart (expected >= 1200)"
  log "  SSE: first delta $((last - first)) ms before the last"

  log "Prometheus finds the runtime up; every metric the dashboards name exists"
  prom=$(container_of "$project" prometheus)
  runtime_targets_up() { # every active target of the runtime job is up (Prometheus' API)
    node -e 'const t=JSON.parse(process.argv[1]).data.activeTargets.filter((x)=>x.labels.job==="agentik-runtime"); process.exit(t.length&&t.every((x)=>x.health==="up")?0:1)' "$1" 2>/dev/null
  }
  for _ in $(seq 60); do
    targets=$(podman exec "$prom" wget -q -O - 'http://127.0.0.1:9090/api/v1/targets?state=active' 2>/dev/null || true)
    runtime_targets_up "$targets" && break
    sleep 1
  done
  runtime_targets_up "$targets" || fail "Prometheus: runtime target not up: $targets"
  podman exec "$prom" wget -q -O - http://runtime:3000/metrics >"$work/metrics.txt"
  missing=()
  while IFS= read -r name; do
    grep -q "^${name}[{ ]" "$work/metrics.txt" || missing+=("$name")
  done < <(grep -oh 'agentik_[a-z0-9_]*' docker/grafana/dashboards/*.json | sort -u)
  [ ${#missing[@]} -eq 0 ] || fail "metrics named in the dashboards but not in /metrics: ${missing[*]}"
  grep -q '^agentik_cost_usd_total{.*tenant="acme"' "$work/metrics.txt" || fail "no per-tenant cost series with AGENTIK_METRICS_TENANT_LABELS=true"
  query=$(podman exec "$prom" wget -q -O - 'http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22agentik-runtime%22%7D')
  grep -q '"value":\[[0-9.]*,"1"\]' <<<"$query" || fail "Prometheus query up{job=agentik-runtime}: $query"

  log "backup: tools profile into ./backups/<date>/; restored onto a fresh install (new volume)"
  dc --profile tools run --rm backup >"$work/backup.log" 2>&1 || { cat "$work/backup.log" >&2; fail "backup service"; }
  backup_dir=$(find "$stack/backups" -mindepth 1 -maxdepth 1 -type d | head -n1)
  { [ -n "$backup_dir" ] && [ -s "$backup_dir/backup.json" ]; } || fail "no backup in ./backups: $(cat "$work/backup.log")"
  [[ $(basename "$backup_dir") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z$ ]] || fail "backup folder name: $backup_dir"
  [ "$(podman ps -a --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=backup -q | wc -l)" = 0 ] ||
    fail "the backup container was left behind"
  # README's restore onto a fresh install: the stack and its volumes gone, `run ... restore` makes a
  # new runtime-data volume from the backup, then the stack starts on it with the same tenants.
  COMPOSE_PROJECT_NAME=$project dc --profile monitoring down -v -t 5 >/dev/null 2>&1
  [ -z "$(podman volume ls -q --filter "label=com.docker.compose.project=$project")" ] || fail "volumes left after down -v"
  dc run --rm --no-deps -v "$backup_dir:/restore:ro" runtime restore --from /restore >"$work/restore.log" 2>&1 ||
    { cat "$work/restore.log" >&2; fail "restore"; }
  grep -q '^restored master.db and 1 tenant stores' "$work/restore.log" || fail "restore said: $(cat "$work/restore.log")"
  dc_up up-restored up -d fake-llm proxy
  wait_healthy "$project" runtime proxy
  podman exec "$(container_of "$project" proxy)" cat /etc/agentik-certs/live/fullchain.pem >"$work/ca.pem"
  api GET /api/tenants | grep -q '"slug":"acme"' || fail "tenant missing after restore"
  api GET "/api/agents/$agent_id" | grep -q '"name":"support"' || fail "agent missing after restore"
  [ "$(COMPOSE_PROJECT_NAME=$project dc logs --no-color runtime 2>/dev/null | grep -c 'Operator key (shown once')" = 0 ] ||
    fail "the restored runtime made a new operator key"
  reply=$(api POST "/api/agents/$agent_id/messages" '{"content":"Still there?"}')
  grep -q 'Hello from the fake model.' <<<"$reply" || fail "agent reply after restore: $reply"

  log "down"
  COMPOSE_PROJECT_NAME=$project dc --profile monitoring down -v -t 5 >/dev/null 2>&1
  log "default stack done"
}

# ---- 3. the postgres profile: two runtime replicas ------------------------------------------------
postgres_stack() {
  project="agentik-test-compose-pg-$suffix"
  projects+=("$project")
  # This run uses TLS_MODE=provided: the operator's files in ./certs, replaced later on.
  tls_mode=provided
  provide_cert 1
  write_env "$project" "COMPOSE_PROFILES=postgres" "AGENTIK_STORAGE=postgres" "AGENTIK_REDIS_URL_FILE=/run/secrets/redis_url"
  health_loop "$project" &
  pids+=($!)
  log "up: postgres profile ($project)"
  up_start=$SECONDS
  dc_up up-postgres up -d fake-llm proxy runtime-2
  wait_healthy "$project" postgres redis runtime runtime-2 dashboard proxy
  log "postgres stack healthy after $((SECONDS - up_start))s"
  check_start_order "$project" || fail "a service started before its dependency was healthy"
  # docker-compose counts a service with no running container as healthy: a runtime that exited
  # because Postgres was not up yet would let the proxy start early. The runtime waits instead.
  for svc in runtime runtime-2; do
    restarts=$(podman inspect --format '{{.RestartCount}}' "$(container_of "$project" "$svc")")
    [ "$restarts" = 0 ] || fail "$svc restarted $restarts times while Postgres came up"
  done
  cp "$stack/certs/fullchain.pem" "$work/ca.pem"
  served_cn | grep -qx 'agentik-provided-1' || fail "provided mode: the proxy serves '$(served_cn)'"

  operator_key=$(operator_key_of "$project" runtime runtime-2)
  [ -n "$operator_key" ] || fail "no operator key in either replica's logs"
  role=$(podman exec "$(container_of "$project" postgres)" psql -U postgres -tAc "select rolsuper, rolinherit, rolcreaterole from pg_roles where rolname = 'agentik'")
  [ "$role" = "f|f|t" ] || fail "login role must be NOSUPERUSER NOINHERIT CREATEROLE: $role"
  api POST /api/tenants '{"name":"Acme","slug":"acme","owner":"ops@acme.example"}' >/dev/null
  agent_id=$(api POST /api/agents '{"name":"support","systemPrompt":"You help.","provider":"openai-compatible","model":"fake-model"}' | json 'v.id')
  for i in 1 2 3 4 5 6; do
    api GET "/api/agents/$agent_id" | grep -q '"name":"support"' || fail "request $i did not see the agent"
  done
  reply=$(api POST "/api/agents/$agent_id/messages" '{"content":"Hello?"}')
  grep -q 'Hello from the fake model.' <<<"$reply" || fail "agent reply (postgres): $reply"
  upstreams=$(dc logs --no-color proxy 2>/dev/null | grep -o '"uri":"/api/agents/[^"]*".*"upstream":"[^"]*"' | grep -o '"upstream":"[^"]*"' | sort -u | wc -l)
  [ "$upstreams" -ge 2 ] || fail "the proxy used $upstreams runtime replica(s), expected 2"
  log "  both replicas served requests"

  log "provided certificate replaced: the proxy reloads and serves the new one"
  provide_cert 2
  for _ in $(seq 30); do [ "$(served_cn)" = agentik-provided-2 ] && break; sleep 1; done
  [ "$(served_cn)" = agentik-provided-2 ] || fail "after replacing ./certs the proxy still serves '$(served_cn)'"
  # The log first, then grep: with pipefail, 'dc logs | grep -q' fails when grep exits at its match
  # while docker-compose is still writing (SIGPIPE), which a long access log makes likely.
  proxy_log=$(dc logs --no-color proxy 2>/dev/null)
  grep -q 'certificate changed, reloading nginx' <<<"$proxy_log" || fail "no reload in the proxy's log"
  cp "$stack/certs/fullchain.pem" "$work/ca.pem"

  log "backup-postgres: pg_dump into ./backups/<date>/"
  rm -rf "${stack:?}/backups/"*
  dc --profile postgres --profile tools run --rm backup-postgres >"$work/backup-pg.log" 2>&1 || { cat "$work/backup-pg.log" >&2; fail "backup-postgres"; }
  dump=$(find "$stack/backups" -name 'agentik.dump' | head -n1)
  { [ -s "$dump" ] && [ -s "$(dirname "$dump")/roles.sql" ]; } || fail "no pg_dump in ./backups: $(cat "$work/backup-pg.log")"
  grep -q 'CREATE ROLE agentik;' "$(dirname "$dump")/roles.sql" || fail "roles.sql lacks the login role"

  log "restore of the dump, as the README says: a tenant made after the backup is gone, the rest is back"
  api POST /api/tenants '{"name":"Later","slug":"later","owner":"ops@later.example"}' >/dev/null
  dc stop -t 5 proxy runtime runtime-2 >/dev/null 2>&1
  dc exec -T postgres psql -q -U postgres <"$(dirname "$dump")/roles.sql" >"$work/restore-pg.log" 2>&1 || true
  dc exec -T postgres sh -c 'dropdb -U postgres agentik && createdb -U postgres -O agentik agentik && psql -q -U postgres -c "REVOKE ALL ON DATABASE agentik FROM PUBLIC"' >>"$work/restore-pg.log" 2>&1 ||
    { cat "$work/restore-pg.log" >&2; fail "recreating the database"; }
  dc exec -T postgres pg_restore -U postgres -d agentik --exit-on-error <"$dump" >>"$work/restore-pg.log" 2>&1 ||
    { cat "$work/restore-pg.log" >&2; fail "pg_restore"; }
  dc_up up-postgres-restored up -d proxy runtime-2
  wait_healthy "$project" runtime runtime-2 proxy
  tenants=$(api GET /api/tenants)
  grep -q '"slug":"acme"' <<<"$tenants" || fail "tenant acme missing after the Postgres restore: $tenants"
  ! grep -q '"slug":"later"' <<<"$tenants" || fail "tenant made after the backup is still there: $tenants"
  reply=$(api POST "/api/agents/$agent_id/messages" '{"content":"Still there?"}')
  grep -q 'Hello from the fake model.' <<<"$reply" || fail "agent reply after the Postgres restore: $reply"
  owner=$(dc exec -T postgres psql -U postgres -d agentik -tAc "select nspowner::regrole from pg_namespace where nspname like 't\_%' limit 1" | tr -d '\r')
  [[ $owner == agentik_t_* ]] || fail "tenant schema owner after restore: $owner"

  COMPOSE_PROJECT_NAME=$project dc --profile postgres down -v -t 5 >/dev/null 2>&1
  log "postgres profile done"
}

# Called as plain commands (not in an && list), so that set -e stays in force inside them.
if [ "$part" = all ] || [ "$part" = default ]; then default_stack; fi
if [ "$part" = all ] || [ "$part" = postgres ]; then postgres_stack; fi
