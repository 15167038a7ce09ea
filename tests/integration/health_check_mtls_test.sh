#!/usr/bin/env bash
# MeshHealthCheck through mTLS sidecars (issue 5): real braid-cp, braid-dp sidecars in an mTLS
# mesh, python apps. The caller's checker does the mTLS handshake with each callee sidecar (whose
# inbound is L4) and speaks the check's protocol to the app behind it:
#  - HTTP GET /health: an instance whose app answers 503 is ejected (failed_active_hc on the
#    caller's /clusters) within two intervals and gets no traffic; healthy again, it comes back.
#  - gRPC grpc.health.v1.Health/Check over h2 inside mTLS: the same with NOT_SERVING.
#  - an http2 service (nghttpd, h2c): the HTTP check goes as an HTTP/2 GET; a 404 ejects (at
#    once: an active failure), the 200 of a healthy instance keeps it in.
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
YAML
apply_allow_all
interval_ms=1000
ctl apply -f - >/dev/null <<YAML
type: MeshHealthCheck
mesh: default
name: checks
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      interval: ${interval_ms}ms
      timeout: 500ms
      unhealthyThreshold: 2
      healthyThreshold: 1
      http: {path: /health, expectedStatuses: [200]}
  - targetRef: {kind: MeshService, name: echo}
    default:
      interval: ${interval_ms}ms
      timeout: 500ms
      unhealthyThreshold: 2
      healthyThreshold: 1
      grpc: {serviceName: braid.test.Echo}
  - targetRef: {kind: MeshService, name: site}
    default:
      interval: ${interval_ms}ms
      timeout: 500ms
      unhealthyThreshold: 2
      noTrafficInterval: ${interval_ms}ms
      http: {path: /health}
YAML

# HTTP: backend-1, backend-2 and web calling backend.
dp_protocol=http
start_app backend-1; b1_app=$app_port
start_app backend-2; b2_app=$app_port
start_app web; web_app=$app_port
b1_in=$(free_port); b2_in=$(free_port); web_out=$(free_port)
start_dp backend-1 backend "$b1_app" "$b1_in" "" ""
start_dp backend-2 backend "$b2_app" "$b2_in" "" ""
start_dp web web "$web_app" "$(free_port)" backend "$web_out"
# gRPC: echo-1, echo-2 and client calling echo.
for n in 1 2; do
  /usr/bin/python3 "$grpc_app" serve "echo-$n" "$tmp/echo-$n.grpc-port" >>"$tmp/echo-$n-app.log" 2>&1 &
  pids+=($!)
  wait_file "$tmp/echo-$n.grpc-port" || { echo "the gRPC server did not start" >&2; exit 1; }
done
e1_in=$(free_port); e2_in=$(free_port); client_out=$(free_port)
dp_protocol=grpc start_dp echo-1 echo "$(cat "$tmp/echo-1.grpc-port")" "$e1_in" "" ""
dp_protocol=grpc start_dp echo-2 echo "$(cat "$tmp/echo-2.grpc-port")" "$e2_in" "" ""
# http2: site-1, site-2 (nghttpd serving a docroot; site-2 has no /health yet, and nghttpd keeps
# files it served open, so health is turned on by creating the file); client calls site too.
s1_in=$(free_port); s2_in=$(free_port)
for n in 1 2; do
  mkdir -p "$tmp/www-$n"
  [ "$n" = 2 ] || echo ok >"$tmp/www-$n/health"
  port=$(free_port)
  /usr/sbin/nghttpd --no-tls -d "$tmp/www-$n" "$port" >>"$tmp/nghttpd-$n.log" 2>&1 &
  pids+=($!)
  in_var=s${n}_in
  dp_protocol=http2 start_dp "site-$n" site "$port" "${!in_var}" "" ""
done
start_app client; client_app=$app_port
dp_more_outbounds="  - port: $(free_port)\n    tags: {braid.io/service: site}\n" \
  start_dp client client "$client_app" "$(free_port)" echo "$client_out"
for dp in backend_1 backend_2 web echo_1 echo_2 site_1 site_2 client; do
  admin_var=${dp}_admin
  check "$dp ready" wait_ready "${!admin_var}"
done
hc_applied() { curl -s "$1/config_dump" | grep -q '"health_check"'; }
check "web's configuration has the health check" wait_for 10 hc_applied "$web_admin"
check "client's configuration has the health check" wait_for 10 hc_applied "$client_admin"

# flags ADMIN CLUSTER PORT: the health flags of one endpoint on the caller's /clusters.
flags() { curl -s "$1/clusters" | grep "$2::127.0.0.1:$3::health_flags::"; }
# ejected_within ADMIN CLUSTER PORT: waits up to 3 intervals; prints the ms it took.
ejected_within() {
  local start ejected="" i
  start=$(now_ms)
  for i in $(seq 300); do
    if flags "$1" "$2" "$3" | grep -q failed_active_hc; then ejected=$(now_ms); break; fi
    sleep 0.01
  done
  [ -n "$ejected" ] && echo $((ejected - start))
}
healthy() { flags "$1" "$2" "$3" | grep -q 'health_flags::healthy'; }
# hc_stat ADMIN attempts|failures CLUSTER
hc_stat() {
  curl -s "$1/stats/prometheus" |
    sed -n "s/^braid_dp_cluster_health_check_$2_total{cluster=\"$3\"} //p"
}

# --- HTTP over mTLS ---------------------------------------------------------------------------
check "both backends healthy (probed through their sidecars' mTLS inbounds)" \
  wait_for 10 bash -c "$(declare -f flags healthy); healthy $web_admin backend $b1_in && healthy $web_admin backend $b2_in"
both=""
for _ in $(seq 20); do both+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/"); done
check "both backends serve" test "${both//backend-1/}" != "$both" -a "${both//backend-2/}" != "$both"

sleep $((interval_ms / 1000 + 1))
check "probes succeed: $(hc_stat "$web_admin" attempts backend) attempts, no failure" \
  test "$(hc_stat "$web_admin" attempts backend)" -ge 4 -a "$(hc_stat "$web_admin" failures backend)" = 0
touch "$tmp/backend-2.app-port.sick"
took=$(ejected_within "$web_admin" backend "$b2_in" || true)
check "backend-2 answering 503 on /health is ejected (after ${took:-never} ms)" test -n "$took"
check "... within two intervals" test "${took:-99999}" -le $((2 * interval_ms + 200))
others=0
for _ in $(seq 50); do
  [ "$(curl -s --max-time 3 "http://127.0.0.1:$web_out/")" = backend-1 ] || others=$((others + 1))
done
check "all traffic goes to backend-1 (others: $others)" test "$others" -eq 0
check "health checks crossed mTLS (backend-2's inbound counted handshakes)" \
  grep -q 'braid_dp_listener_ssl_handshakes_total{listener="inbound:127.0.0.1:'"$b2_in"'"} [1-9]' \
  <(curl -s "$backend_2_admin/stats/prometheus")
rm -f "$tmp/backend-2.app-port.sick"
check "backend-2 comes back once /health answers 200" \
  wait_for 5 bash -c "$(declare -f flags healthy); healthy $web_admin backend $b2_in"
both=""
for _ in $(seq 20); do both+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/"); done
check "... and serves again" test "${both//backend-2/}" != "$both"

# --- gRPC over mTLS ---------------------------------------------------------------------------
# Traffic first: until a cluster carries a connection its probes run every noTrafficInterval.
counts=$(/usr/bin/python3 "$grpc_app" count "127.0.0.1:$client_out" 20 2>&1 || true)
check "both echo instances answer (got: $(echo $counts))" \
  test "$counts" = "$(printf 'echo-1 10\necho-2 10')"
sleep $((interval_ms / 1000 + 1))
check "both echo instances healthy (Health/Check SERVING)" \
  wait_for 10 bash -c "$(declare -f flags healthy); healthy $client_admin echo $e1_in && healthy $client_admin echo $e2_in"
check "gRPC probes succeed: $(hc_stat "$client_admin" attempts echo) attempts, no failure" \
  test "$(hc_stat "$client_admin" attempts echo)" -ge 2 -a "$(hc_stat "$client_admin" failures echo)" = 0
touch "$tmp/echo-2.grpc-port.sick"
took=$(ejected_within "$client_admin" echo "$e2_in" || true)
check "echo-2 answering NOT_SERVING is ejected (after ${took:-never} ms)" test -n "$took"
check "... within two intervals" test "${took:-99999}" -le $((2 * interval_ms + 200))
counts=$(/usr/bin/python3 "$grpc_app" count "127.0.0.1:$client_out" 30 2>&1 || true)
check "all calls go to echo-1 (got: $(echo $counts))" test "$counts" = "echo-1 30"
rm -f "$tmp/echo-2.grpc-port.sick"
check "echo-2 comes back once SERVING" \
  wait_for 5 bash -c "$(declare -f flags healthy); healthy $client_admin echo $e2_in"
check "health check failures counted" \
  grep -q 'braid_dp_cluster_health_check_failures_total{cluster="echo"} [1-9]' \
  <(curl -s "$client_admin/stats/prometheus")

# --- an http2 service: HTTP/2 GET inside mTLS -------------------------------------------------
site_probed() { [ "$(hc_stat "$client_admin" attempts site)" -ge 6 ] 2>/dev/null; }
check "HTTP/2 probes run" wait_for 10 site_probed
check "site-2 answering 404 is ejected" \
  bash -c "$(declare -f flags); flags $client_admin site $s2_in | grep -q failed_active_hc"
check "... at once: an active failure" \
  grep -q '"cluster":"site","endpoint":"127.0.0.1:'"$s2_in"'","failure":"active"' "$tmp/client.log"
check "site-1 answering 200 stays in" healthy "$client_admin" site "$s1_in"
echo ok >"$tmp/www-2/health"
check "site-2 comes back once /health exists" \
  wait_for 5 bash -c "$(declare -f flags healthy); healthy $client_admin site $s2_in"

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all mTLS health check checks passed"
