#!/usr/bin/env bash
# MeshHealthCheck end to end (issue 5): real braid-cp, braid-dp sidecars (mesh without mTLS: the
# checker probes through the callee's sidecar to its app with HTTP), python apps, curl.
# A dead instance (its app killed, its sidecar still registered and healthy for the CP) is
# ejected within two health-check intervals; after that no request fails; it comes back.
# gRPC: Health/Check over h2c; an instance answering NOT_SERVING is ejected and comes back.
# (health_check_mtls_test.sh: the same through mTLS sidecars.)
#   BRAID_BIN: where the binaries are (default build/bin); run from the repository root.
set -euo pipefail

source tests/integration/lib/common.sh
printf 'type: Mesh\nname: default\n' | ctl apply -f - >/dev/null
interval_ms=1000
ctl apply -f - >/dev/null <<YAML
type: MeshHealthCheck
mesh: default
name: backend-checks
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      interval: ${interval_ms}ms
      timeout: 500ms
      unhealthyThreshold: 2
      healthyThreshold: 1
      http: {path: /, expectedStatuses: [200]}
  - targetRef: {kind: MeshService, name: echo}
    default:
      interval: ${interval_ms}ms
      timeout: 500ms
      unhealthyThreshold: 2
      noTrafficInterval: ${interval_ms}ms
      grpc: {}
YAML

dp_protocol=http
start_app backend-1; b1_app=$app_port
start_app backend-2; b2_app=$app_port; b2_app_pid=${pids[-1]}
start_app web; web_app=$app_port
b1_in=$(free_port); b2_in=$(free_port); web_in=$(free_port); web_out=$(free_port)
start_dp backend-1 backend "$b1_app" "$b1_in" "" ""
start_dp backend-2 backend "$b2_app" "$b2_in" "" ""
start_dp web web "$web_app" "$web_in" backend "$web_out"
check "sidecars ready" wait_ready "$web_admin"
hc_applied() { curl -s "$web_admin/config_dump" | grep -q '"health_check"'; }
check "web's configuration has the health check" wait_for 10 hc_applied

both=""
for _ in $(seq 20); do both+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/"); done
check "both instances serve" test "${both//backend-1/}" != "$both" -a "${both//backend-2/}" != "$both"

flags() { curl -s "$web_admin/clusters" | grep "backend::127.0.0.1:$b2_in::health_flags::"; }
kill -TERM "$b2_app_pid"; wait "$b2_app_pid" || true
killed=$(now_ms)
ejected=""
for _ in $(seq 600); do
  if flags | grep -q failed_active_hc; then ejected=$(now_ms); break; fi
  sleep 0.01
done
check "the dead instance is ejected" test -n "$ejected"
[ -n "$ejected" ] && echo "   ejected $((ejected - killed)) ms after its app died (interval ${interval_ms} ms)"
check "... within two intervals" test -n "$ejected" -a $((${ejected:-0} - killed)) -le $((2 * interval_ms + 200))

failures=0
for _ in $(seq 100); do
  [ "$(curl -s --max-time 3 "http://127.0.0.1:$web_out/")" = backend-1 ] || failures=$((failures + 1))
done
check "no failed request after the ejection (got $failures)" test "$failures" -eq 0
check "attempts and failures counted" \
  grep -q 'braid_dp_cluster_health_check_failures_total{cluster="backend"} [1-9]' \
  <(curl -s "$web_admin/stats/prometheus")

python3 "$app" backend-2 "$tmp/backend-2b.app-port" "$b2_app" &
pids+=($!)
back() { flags | grep -q 'health_flags::healthy'; }
check "it comes back once its app answers again" wait_for 10 back

# gRPC over h2c: two echo instances, client calling echo.
grpc_app=tests/support/grpc_app.py
for n in 1 2; do
  /usr/bin/python3 "$grpc_app" serve "echo-$n" "$tmp/echo-$n.grpc-port" >>"$tmp/echo-$n-app.log" 2>&1 &
  pids+=($!)
  wait_file "$tmp/echo-$n.grpc-port" || { echo "the gRPC server did not start" >&2; exit 1; }
done
e2_in=$(free_port); client_out=$(free_port)
dp_protocol=grpc start_dp echo-1 echo "$(cat "$tmp/echo-1.grpc-port")" "$(free_port)" "" ""
dp_protocol=grpc start_dp echo-2 echo "$(cat "$tmp/echo-2.grpc-port")" "$e2_in" "" ""
start_app client; client_app=$app_port
start_dp client client "$client_app" "$(free_port)" echo "$client_out"
check "client ready" wait_ready "$client_admin"
probed() {
  curl -s "$client_admin/stats/prometheus" |
    grep -q 'braid_dp_cluster_health_check_attempts_total{cluster="echo"} [4-9]'
}
check "gRPC probes run" wait_for 10 probed
check "... and none failed" grep -q 'braid_dp_cluster_health_check_failures_total{cluster="echo"} 0' \
  <(curl -s "$client_admin/stats/prometheus")
echo_flags() { curl -s "$client_admin/clusters" | grep "echo::127.0.0.1:$e2_in::health_flags::"; }
touch "$tmp/echo-2.grpc-port.sick"
sick_ejected() { echo_flags | grep -q failed_active_hc; }
check "echo-2 answering NOT_SERVING is ejected" wait_for $((2 * interval_ms / 1000 + 1)) sick_ejected
counts=$(/usr/bin/python3 "$grpc_app" count "127.0.0.1:$client_out" 20 2>&1 || true)
check "all calls go to echo-1 (got: $(echo $counts))" test "$counts" = "echo-1 20"
rm -f "$tmp/echo-2.grpc-port.sick"
echo_back() { echo_flags | grep -q 'health_flags::healthy'; }
check "echo-2 comes back once SERVING" wait_for 5 echo_back

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all health check checks passed"
