# Shared by the integration tests: a temp dir cleaned up on exit (with the logs' tails shown on
# failure), check/pass/fail bookkeeping, braid-cp on port 0, workloads (tests/support/test_app.py)
# and readiness waits. Source it from the repository root; BRAID_BIN names the binaries.
bin=${BRAID_BIN:-build/bin}
app=tests/support/test_app.py
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$failed" -ne 0 ]; then
    for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done
  fi
  rm -rf "$tmp"
}
failed=0
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
pass() { echo "ok: $*"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
now_ms() { date +%s%3N; }
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- the control plane --------------------------------------------------------------------------
cp_pid=""
start_cp() {  # start_cp [XDS_PORT]
  rm -f "$tmp/data/ports.json"
  "$bin/braid-cp" run --data-dir "$tmp/data" --store "sqlite:$tmp/data/braid.db" \
    --api-address "127.0.0.1:${api_port:-0}" --xds-address "127.0.0.1:${1:-0}" \
    --kds-address 127.0.0.1:0 >>"$tmp/cp.log" 2>&1 &
  cp_pid=$!
  pids+=("$cp_pid")
  wait_file "$tmp/data/ports.json" || { echo "braid-cp did not start" >&2; exit 1; }
  api_port=$(json_field 'd["api"]' <"$tmp/data/ports.json")
  xds_port=$(json_field 'd["xds"]' <"$tmp/data/ports.json")
  api="http://127.0.0.1:$api_port"
}
start_cp
ctl() { "$bin/braidctl" --api "$api" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_app() {  # start_app NAME → $app_port
  python3 "$app" "$1" "$tmp/$1.app-port" &
  pids+=($!)
  wait_file "$tmp/$1.app-port" || { echo "app $1 did not start" >&2; exit 1; }
  app_port=$(cat "$tmp/$1.app-port")
}
# --- workloads and their sidecars ---------------------------------------------------------------
# start_dp NAME SERVICE APP_PORT INBOUND_PORT [OUTBOUND_SERVICE OUTBOUND_PORT] [EXTRA FLAGS…]
# (the inbound's protocol is $dp_protocol, default tcp; $dp_more_outbounds is appended to the
# outbound list; the token is $token_of's, default NAME's)
start_dp() {
  local name=$1 service=$2 service_port=$3 inbound=$4 out_service=${5:-} out_port=${6:-}
  shift 6 || shift $#
  {
    printf 'type: Dataplane\nmesh: default\nname: {{ name }}\nnetworking:\n  address: 127.0.0.1\n'
    printf '  inbound:\n  - port: %s\n    servicePort: %s\n' "$inbound" "$service_port"
    printf '    tags: {braid.io/service: %s, braid.io/protocol: %s}\n' "$service" "${dp_protocol:-tcp}"
    if [ -n "$out_service" ]; then
      printf '  outbound:\n  - port: %s\n    tags: {braid.io/service: %s}\n' "$out_port" "$out_service"
      printf '%b' "${dp_more_outbounds:-}"
    fi
  } >"$tmp/$name.yaml"
  rm -f "$tmp/$name.admin-port"
  ctl generate dataplane-token --mesh default --name "$name" --tag "braid.io/service=$service" \
    --valid-for 1h >"$tmp/$name.token"
  "$bin/braid-dp" run --cp-address "https://127.0.0.1:$xds_port" --ca-cert-file "$tmp/data/cp-ca.pem" \
    --dataplane-file "$tmp/$name.yaml" --dataplane-var "name=$name" --admin-address 127.0.0.1:0 \
    --dataplane-token-file "$tmp/${token_of:-$name}.token" \
    --admin-port-file "$tmp/$name.admin-port" --concurrency 2 "$@" >>"$tmp/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  eval "${name//-/_}_pid=$pid"
  wait_file "$tmp/$name.admin-port" || { echo "braid-dp $name did not start" >&2; exit 1; }
  eval "${name//-/_}_admin=http://127.0.0.1:$(cat "$tmp/$name.admin-port")"
}
wait_for() {  # wait_for SECONDS COMMAND…: polls every 0.1 s until COMMAND succeeds
  local deadline=$(($(date +%s) + $1))
  shift
  while [ "$(date +%s)" -le "$deadline" ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
# A MeshTrafficPermission letting every caller of the mesh in (mTLS meshes deny without one).
apply_allow_all() {
  ctl apply -f - >/dev/null <<'YAML'
type: MeshTrafficPermission
name: allow-all
mesh: default
spec:
  targetRef: {kind: Mesh}
  from:
  - targetRef: {kind: Mesh}
    default: {action: Allow}
YAML
}
wait_ready() {  # wait_ready ADMIN_URL
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/ready")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

