#!/usr/bin/env bash
# gRPC through the mesh (issue 5): a real gRPC client and server (Debian's python3-grpcio, raw
# bytes messages) behind two braid-dp sidecars with mTLS; unary and server-streaming calls.
# The HTTP/2 connection manager (ADR 0006) routes each call; this checks that they get through
# intact, over mutual TLS, with the permission enforced (tests/integration/http2_test.sh has the
# routing).
#   BRAID_BIN: where the binaries are (default build/bin); run from the repository root.
set -euo pipefail

source tests/integration/lib/common.sh
grpc_app=tests/support/grpc_app.py

ctl apply -f - >/dev/null <<'YAML'
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends: [{name: ca-1, type: builtin}]
---
type: MeshTrafficPermission
name: client-to-echo
mesh: default
spec:
  targetRef: {kind: MeshService, name: echo}
  from:
  - targetRef: {kind: MeshSubset, tags: {braid.io/service: client}}
    default: {action: Allow}
YAML

/usr/bin/python3 "$grpc_app" serve echo-1 "$tmp/echo.grpc-port" >>"$tmp/echo-app.log" 2>&1 &
pids+=($!)
wait_file "$tmp/echo.grpc-port" || { echo "the gRPC server did not start" >&2; exit 1; }
echo_in=$(free_port); client_out=$(free_port); stranger_out=$(free_port)
dp_protocol=grpc start_dp echo-1 echo "$(cat "$tmp/echo.grpc-port")" "$echo_in" "" ""
start_app client; client_app=$app_port
start_dp client client "$client_app" "$(free_port)" echo "$client_out"
start_app stranger; stranger_app=$app_port
start_dp stranger stranger "$stranger_app" "$(free_port)" echo "$stranger_out"
for dp in echo_1 client stranger; do
  admin_var=${dp}_admin
  check "$dp ready" wait_ready "${!admin_var}"
done

expected=$'echo-1:ping\necho-1:0\necho-1:1\necho-1:2'
calls_work() { [ "$(/usr/bin/python3 "$grpc_app" call "127.0.0.1:$client_out" 2>&1)" = "$expected" ]; }
check "unary and server-streaming calls go through two sidecars" wait_for 10 calls_work
ok=0
for _ in $(seq 20); do calls_work && ok=$((ok + 1)); done
check "20 more rounds all succeed (got $ok)" test "$ok" -eq 20
check "the hop between the sidecars is mutual TLS" \
  grep -q 'braid_dp_listener_ssl_handshakes_total{listener="inbound:127.0.0.1:'"$echo_in"'"} [1-9]' \
  <(curl -s "$echo_1_admin/stats/prometheus")
out=$(/usr/bin/python3 "$grpc_app" call "127.0.0.1:$stranger_out" 2>&1 || true)
check "a caller without a permission gets PERMISSION_DENIED (HTTP 403; got '$out')" \
  grep -q "gRPC error: StatusCode.PERMISSION_DENIED" <<<"$out"

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all gRPC checks passed"
