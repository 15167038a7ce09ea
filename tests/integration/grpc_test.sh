#!/usr/bin/env bash
# gRPC through the mesh (issue 5): a real gRPC client and server (Debian's python3-grpcio, raw
# bytes messages) behind two braid-dp sidecars with mTLS; unary and server-streaming calls;
# MeshRetry grpc and MeshTimeout streamIdleTimeout on the calls.
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

# A unary call sent as HTTP/1.1 (a gRPC frame in a POST body): the grpc outbound sends it as an
# HTTP/2 stream to the gRPC server, and the answer comes back chunked, with the message.
printf '\x00\x00\x00\x00\x04ping' >"$tmp/ping.grpc"
out=$(curl -s --http1.1 --max-time 5 -H 'content-type: application/grpc' -H 'te: trailers' \
  --data-binary @"$tmp/ping.grpc" "http://127.0.0.1:$client_out/braid.test.Echo/Unary" | tr -d '\000-\010')
check "a gRPC call over HTTP/1.1 is answered through the HTTP/2 upstream (got '$out')" \
  grep -q 'echo-1:ping' <<<"$out"

# MeshRetry grpc: a server failing every other call with UNAVAILABLE (a trailers-only answer)
# succeeds for the caller once retryOn names Unavailable; without the policy half the calls fail.
out=$(/usr/bin/python3 "$grpc_app" flaky "127.0.0.1:$client_out" 20 2>&1)
check "without MeshRetry half the flaky calls fail ($(tr '\n' ' ' <<<"$out"))" \
  grep -qx 'error UNAVAILABLE 10' <<<"$out"
ctl apply -f - >/dev/null <<'YAML'
type: MeshRetry
name: echo-retry
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: echo}
    default:
      grpc:
        numRetries: 2
        backOff: {baseInterval: 10ms, maxInterval: 50ms}
        retryOn: [Unavailable]
YAML
retry_applied() { curl -s "$client_admin/config_dump" | grep -q '"unavailable"'; }
check "the gRPC retry policy reached the client's sidecar" wait_for 10 retry_applied
out=$(/usr/bin/python3 "$grpc_app" flaky "127.0.0.1:$client_out" 20 2>&1)
check "with MeshRetry grpc every flaky call succeeds ($(tr '\n' ' ' <<<"$out"))" test "$out" = "ok 20"
retries=$(curl -s "$client_admin/stats/prometheus" | awk '/^braid_dp_cluster_upstream_rq_retry_total\{/ {s += $2} END {print s + 0}')
check "... by retries (counted: $retries)" test "$retries" -ge 10

# MeshTimeout http.streamIdleTimeout on a gRPC route: a call silent for longer ends with
# DEADLINE_EXCEEDED at the idle timeout, well before the request timeout.
ctl apply -f - >/dev/null <<'YAML'
type: MeshTimeout
name: echo-stream-idle
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: echo}
    default:
      http: {requestTimeout: 10s, streamIdleTimeout: 300ms}
YAML
idle_applied() { curl -s "$client_admin/config_dump" | grep -q '"stream_idle_timeout_ms":300[,}]'; }
check "the stream idle timeout reached the client's sidecar" wait_for 10 idle_applied
out=$(/usr/bin/python3 "$grpc_app" timed "127.0.0.1:$client_out" sleep:2000 2>/dev/null)
check "a call silent for 2 s gets DEADLINE_EXCEEDED (got '$out')" test "${out%% *}" = DEADLINE_EXCEEDED
check "... at the 300 ms stream idle timeout" \
  python3 -c "import sys; t=float('${out##* }'); sys.exit(0 if 0.27 <= t <= 0.8 else 1)"

# Drain (SIGTERM): the client's sidecar sends its h2c callers a GOAWAY, so an idle gRPC channel
# lets go of the connection and the sidecar exits at once instead of after its 30 s drain time.
/usr/bin/python3 - "$client_out" >"$tmp/channel.out" 2>&1 <<'PY' &
import sys, time
import grpc
with grpc.insecure_channel("127.0.0.1:" + sys.argv[1]) as channel:
    unary = channel.unary_unary("/braid.test.Echo/Unary", lambda b: b, lambda b: b)
    print(unary(b"hold", timeout=5).decode(), flush=True)
    time.sleep(15)  # idle, channel open
PY
channel=$!
channel_ready() { grep -q 'echo-1:hold' "$tmp/channel.out"; }
check "an idle gRPC channel is open through the client's sidecar" wait_for 10 channel_ready
start=$(now_ms)
kill -TERM "$client_pid"
for _ in $(seq 100); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.1; done
took=$(($(now_ms) - start))
kill "$channel" 2>/dev/null || true
check "the draining sidecar exited in ${took} ms (< 5 s: the channel left after the GOAWAY)" \
  test "$took" -lt 5000

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all gRPC checks passed"
