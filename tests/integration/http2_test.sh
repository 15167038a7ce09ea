#!/usr/bin/env bash
# HTTP/2 and gRPC routed at L7 (ADR 0006): a gRPC client speaking h2c to its sidecar's outbound,
# the HTTP/2 connection manager routing each call, HTTP/2 over mutual TLS to the peer sidecar,
# whose inbound carries it to the h2c app. Real processes: python3-grpcio client and servers,
# nghttpd and h2load (nghttp2).
#   (a) unary and server-streaming calls, (b) MeshHTTPRoute header match on gRPC metadata and an
#   80/20 split over 500 calls, (c) MeshTimeout requestTimeout → DEADLINE_EXCEEDED at the
#   timeout, (e) h2load through an http2 outbound, all 2xx, (f) an h2c caller of an `http`
#   outbound (the app behind speaks HTTP/1.1): its streams go as HTTP/1.1, answered over HTTP/2.
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

# Two versions of the gRPC service echo, and an h2c web server (nghttpd) for h2load.
for version in v1 v2; do
  /usr/bin/python3 "$grpc_app" serve "echo-$version" "$tmp/echo-$version.grpc-port" \
    >>"$tmp/echo-$version-app.log" 2>&1 &
  pids+=($!)
  wait_file "$tmp/echo-$version.grpc-port" || { echo "the gRPC server did not start" >&2; exit 1; }
  token_of="" dp_protocol="grpc, version: $version" \
    start_dp "echo-$version" echo "$(cat "$tmp/echo-$version.grpc-port")" "$(free_port)" "" ""
done
mkdir -p "$tmp/www"
head -c 2048 /dev/urandom | base64 >"$tmp/www/index.html"
web_port=$(free_port)
/usr/sbin/nghttpd --no-tls -d "$tmp/www" "$web_port" >>"$tmp/nghttpd.log" 2>&1 &
pids+=($!)
dp_protocol=http2 start_dp web web "$web_port" "$(free_port)" "" ""
start_app site
dp_protocol=http start_dp site site "$app_port" "$(free_port)" "" ""
start_app client; client_app=$app_port
client_out=$(free_port); web_out=$(free_port); site_out=$(free_port)
dp_more_outbounds="  - port: $web_out\n    tags: {braid.io/service: web}\n  - port: $site_out\n    tags: {braid.io/service: site}\n" \
  start_dp client client "$client_app" "$(free_port)" echo "$client_out"
for dp in echo_v1 echo_v2 web site client; do
  admin_var=${dp}_admin
  check "$dp ready" wait_ready "${!admin_var}"
done
stat() {  # stat ADMIN_URL METRIC_PREFIX: the sum of the matching series
  curl -s "$1/stats/prometheus" | awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { print s + 0 }'
}

# (a) Unary and server streaming, routed at L7 (the client's cluster counts the calls).
calls_work() {
  /usr/bin/python3 "$grpc_app" call "127.0.0.1:$client_out" >"$tmp/call.out" 2>&1 &&
    grep -qx 'echo-v[12]:ping' "$tmp/call.out" && [ "$(grep -cx 'echo-v[12]:[012]' "$tmp/call.out")" = 3 ]
}
check "unary and server-streaming calls go through two sidecars" wait_for 10 calls_work
ok=0
for _ in $(seq 10); do calls_work && ok=$((ok + 1)); done
check "10 more rounds all succeed (got $ok)" test "$ok" -eq 10
rq2xx=$(stat "$client_admin" 'braid_dp_cluster_upstream_rq_2xx_total{cluster="echo')
check "the calls were routed per request at L7 (upstream 2xx: $rq2xx)" test "$rq2xx" -ge 22
check "the hop between the sidecars is mutual TLS" \
  test "$(stat "$echo_v1_admin" 'braid_dp_listener_ssl_handshakes_total')" -ge 1

# (b) An 80/20 split between the versions, and calls with x-version: v2 to v2 only.
ctl apply -f - >/dev/null <<'YAML'
type: MeshHTTPRoute
name: echo-routes
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: echo}
    rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      default:
        backendRefs:
        - {kind: MeshServiceSubset, name: echo, tags: {version: v1}, weight: 80}
        - {kind: MeshServiceSubset, name: echo, tags: {version: v2}, weight: 20}
    - matches: [{path: {type: PathPrefix, value: /}, headers: [{type: Exact, name: x-version, value: v2}]}]
      default:
        backendRefs:
        - {kind: MeshServiceSubset, name: echo, tags: {version: v2}, weight: 1}
YAML
routes_applied() { curl -s "$client_admin/config_dump" | grep -q 'x-version'; }
check "the routes reached the client's sidecar" wait_for 10 routes_applied
out=$(/usr/bin/python3 "$grpc_app" count "127.0.0.1:$client_out" 500)
v1=$(awk '$1 == "echo-v1" { print $2 }' <<<"$out"); v1=${v1:-0}
v2=$(awk '$1 == "echo-v2" { print $2 }' <<<"$out"); v2=${v2:-0}
echo "   split over 500 calls: v1 $v1, v2 $v2 ($(tr '\n' ' ' <<<"$out"))"
check "v1 gets 80% ± 3 (got $v1/500)" test "$v1" -ge 385 -a "$v1" -le 415
check "v2 gets 20% ± 3 (got $v2/500)" test "$v2" -ge 85 -a "$v2" -le 115
out=$(/usr/bin/python3 "$grpc_app" count "127.0.0.1:$client_out" 50 x-version=v2)
check "every call with x-version: v2 went to v2 ($(tr '\n' ' ' <<<"$out"))" test "$out" = "echo-v2 50"
routed=$(stat "$client_admin" 'braid_dp_route_rq_2xx_total{')
check "per-route counters count the calls (route 2xx: $routed)" test "$routed" -ge 550

# (c) MeshTimeout requestTimeout: a slow call ends with DEADLINE_EXCEEDED at the timeout.
ctl apply -f - >/dev/null <<'YAML'
type: MeshTimeout
name: echo-timeout
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: echo}
    default:
      http: {requestTimeout: 500ms}
YAML
timeout_applied() { curl -s "$client_admin/config_dump" | grep -q '"timeout_ms":500[,}]'; }
check "the timeout reached the client's sidecar" wait_for 10 timeout_applied
out=$(/usr/bin/python3 "$grpc_app" timed "127.0.0.1:$client_out" sleep:2000)
echo "   slow call: $out"
check "a slow call gets DEADLINE_EXCEEDED (got '$out')" test "${out%% *}" = DEADLINE_EXCEEDED
check "... at 500 ms ± 15 %" \
  python3 -c "import sys; t=float('${out##* }'); sys.exit(0 if 0.425 <= t <= 0.575 else 1)"
out=$(/usr/bin/python3 "$grpc_app" timed "127.0.0.1:$client_out" sleep:10)
check "a fast call still answers (got '$out')" grep -q '^echo-v[12]:sleep:10 ' <<<"$out"

# (e) h2load through the http2 outbound to nghttpd: every request answered 2xx.
h2_works() { [ "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "http://127.0.0.1:$web_out/index.html")" = 200 ]; }
check "h2c through the http2 outbound answers" wait_for 10 h2_works
h2load -n 2000 -c 4 -m 10 "http://127.0.0.1:$web_out/index.html" >"$tmp/h2load.out" 2>&1 || true
grep -E '^requests:|^status codes:' "$tmp/h2load.out" | sed 's/^/   /'
check "h2load: 2000 requests, all 2xx" grep -q '^status codes: 2000 2xx' "$tmp/h2load.out"
web2xx=$(stat "$client_admin" 'braid_dp_cluster_upstream_rq_2xx_total{cluster="web')
check "... each routed at L7 (upstream 2xx: $web2xx)" test "$web2xx" -ge 2000

# (f) h2c to an http outbound: HTTP/1.1 between the sidecars and to the app.
site_works() { [ "$(curl -s --http2-prior-knowledge --max-time 2 "http://127.0.0.1:$site_out/")" = site ]; }
check "h2c through an http outbound reaches the HTTP/1.1 app" wait_for 10 site_works
h2load -n 500 -c 2 -m 10 "http://127.0.0.1:$site_out/" >"$tmp/h2load-site.out" 2>&1 || true
grep -E '^status codes:' "$tmp/h2load-site.out" | sed 's/^/   /'
check "h2load through the http outbound: 500 requests, all 2xx" \
  grep -q '^status codes: 500 2xx' "$tmp/h2load-site.out"
site2xx=$(stat "$client_admin" 'braid_dp_cluster_upstream_rq_2xx_total{cluster="site')
check "... each routed at L7 (upstream 2xx: $site2xx)" test "$site2xx" -ge 500

# (g) HTTP/1.1 to the http2 outbound: the app behind speaks only h2c, so each request goes as a
# stream on the HTTP/2 pool and its response comes back as HTTP/1.1 (keep-alive, chunked).
h1_works() { [ "$(curl -s --http1.1 -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$web_out/index.html")" = 200 ]; }
check "HTTP/1.1 through the http2 outbound answers" wait_for 10 h1_works
out=$(curl -s --http1.1 -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' --max-time 5 \
  "http://127.0.0.1:$web_out/index.html" "http://127.0.0.1:$web_out/index.html" "http://127.0.0.1:$web_out/missing")
check "three requests on one kept-alive connection: 200 200 404 (got $(tr '\n' ' ' <<<"$out"))" \
  test "$(tr '\n' ' ' <<<"$out")" = "200 1 200 0 404 0 "
before=$(stat "$client_admin" 'braid_dp_cluster_upstream_rq_2xx_total{cluster="web')
h2load --h1 -n 1000 -c 4 "http://127.0.0.1:$web_out/index.html" >"$tmp/h2load-h1.out" 2>&1 || true
grep -E '^status codes:' "$tmp/h2load-h1.out" | sed 's/^/   /'
check "h2load --h1 through the http2 outbound: 1000 requests, all 2xx" \
  grep -q '^status codes: 1000 2xx' "$tmp/h2load-h1.out"
after=$(stat "$client_admin" 'braid_dp_cluster_upstream_rq_2xx_total{cluster="web')
check "... each sent upstream as an HTTP/2 stream ($((after - before)))" test $((after - before)) -ge 1000

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all HTTP/2 checks passed"
