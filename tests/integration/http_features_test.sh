#!/usr/bin/env bash
# HTTP features of the connection manager beyond routing (issue 5), end to end through two
# sidecars with mTLS: WebSocket upgrades passed through as a tunnel, other upgrades refused;
# RequestMirror copies to a shadow service; RingHash on a header keeps each user on one instance;
# MeshTimeout streamIdleTimeout and maxStreamDuration; drain on SIGTERM.
#   BRAID_BIN: where the binaries are (default build/bin); run from the repository root.
set -euo pipefail

source tests/integration/lib/common.sh

ctl apply -f - >/dev/null <<'YAML'
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends: [{name: ca-1, type: builtin}]
YAML
apply_allow_all

dp_protocol=http
start_app backend; backend_app=$app_port
start_dp backend backend "$backend_app" "$(free_port)"
start_app shadow; shadow_app=$app_port
start_dp shadow shadow "$shadow_app" "$(free_port)"
start_app web; web_app=$app_port
web_out=$(free_port)
start_dp web web "$web_app" "$(free_port)" backend "$web_out"
check "backend ready" wait_ready "$backend_admin"
check "shadow ready" wait_ready "$shadow_admin"
check "web ready" wait_ready "$web_admin"
reaches_backend() { [ "$(curl -s --max-time 2 "http://127.0.0.1:$web_out/")" = backend ]; }
check "web reaches backend at L7" wait_for 10 reaches_backend

# 1. WebSocket: the upgrade goes through both sidecars; frames pass both ways untouched; the
# server's close ends the tunnel with the connection closed to the caller.
out=$(python3 tests/support/ws_client.py "127.0.0.1:$web_out" hello 3 2>&1) || true
echo "   websocket: $(tr '\n' '|' <<<"$out")"
check "websocket frames echoed through the mesh" test "$out" = "$(printf 'backend: hello\nbackend: hello\nbackend: hello')"
# 3 MB frames are well over the proxy's watermarks (1 MiB): reading pauses and resumes.
out=$(python3 tests/support/ws_client.py "127.0.0.1:$web_out" @3000000 2 2>&1) || true
check "3 MB frames pass whole both ways (got '$(tr '\n' '|' <<<"$out")')" test "$out" = "$(printf '3000009 bytes\n3000009 bytes')"
upgrades() { curl -s "$web_admin/stats/prometheus" | grep -E '^braid_dp_listener_downstream_rq_1xx_total\{.*\} [0-9]+' | awk '{s += $2} END {print s + 0}'; }
check "the 101s are counted as 1xx responses ($(upgrades))" test "$(upgrades)" -ge 2

# An upgrade the service refuses: its answer reaches the caller, then the proxy closes the
# connection (what the caller sent after the request was meant for the new protocol).
refused() {
  python3 - "$web_out" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /ws-refused HTTP/1.1\r\nHost: backend\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          b"Sec-WebSocket-Version: 13\r\n\r\n")
data = b""
while True:
    part = s.recv(65536)
    if not part:
        break
    data += part
head = data.split(b"\r\n\r\n")[0].lower()
sys.exit(0 if head.startswith(b"http/1.1 426") and b"connection: close" in head else 1)
PY
}
check "a refused upgrade is answered, then the connection closed" refused

# 2. Upgrades other than WebSocket are refused, as Envoy's default; h2c upgrades are served as
# the plain HTTP/1.1 requests they also are.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H 'Connection: Upgrade' -H 'Upgrade: foo' "http://127.0.0.1:$web_out/")
check "an Upgrade: foo request gets 403 (got $code)" test "$code" = 403
body=$(curl -s --max-time 3 -H 'Connection: Upgrade, HTTP2-Settings' -H 'Upgrade: h2c' -H 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA' "http://127.0.0.1:$web_out/echo")
check "an h2c upgrade is served as HTTP/1.1 without the Upgrade" python3 -c "
import json, sys
d = json.loads(sys.argv[1]); h = d['headers']
sys.exit(0 if d['name'] == 'backend' and 'upgrade' not in h and 'http2-settings' not in h else 1)" "$body"

# 3. RequestMirror: every request to backend is copied to shadow (Host "<host>-shadow:<port>"),
# included; the caller's answers still come from backend alone.
ctl apply -f - >/dev/null <<'YAML'
type: MeshHTTPRoute
name: backend-mirror
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    rules:
    - matches: [{path: {type: PathPrefix, value: /mirrored}}]
      default:
        filters:
        - type: RequestMirror
          requestMirror: {backendRef: {kind: MeshService, name: shadow}}
YAML
mirror_applied() { curl -s "$web_admin/config_dump" | grep -q 'shadow'; }
check "the mirror route reached web's sidecar" wait_for 10 mirror_applied
answers=""
for i in $(seq 10); do answers+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/mirrored/$i"); done
answers+=$(curl -s --max-time 2 -d "$(head -c 5000 /dev/zero | tr '\0' 'y')" "http://127.0.0.1:$web_out/mirrored/post")
check "the caller's answers come from backend" test "$answers" = "$(printf 'backend%.0s' $(seq 11))"
curl -s --max-time 2 "http://127.0.0.1:$web_out/not-mirrored" >/dev/null
mirrored() {
  curl -s "http://127.0.0.1:$shadow_app/requests" | python3 -c "
import json, sys
seen = json.load(sys.stdin)
gets = sorted(p for m, p, h, n in seen if m == 'GET' and h == '127.0.0.1-shadow:$web_out')
posts = [n for m, p, h, n in seen if m == 'POST' and p == '/mirrored/post']
others = [p for m, p, h, n in seen if p == '/not-mirrored']
sys.exit(0 if gets == sorted(f'/mirrored/{i}' for i in range(1, 11)) and posts == [5000] and not others else 1)"
}
check "shadow got a copy of each mirrored request, body included, and nothing else" wait_for 5 mirrored

# 4. MeshLoadBalancingStrategy RingHash on a header: with two backend instances, every request of
# a user (x-user) lands on the same instance, and the users spread over both.
start_app backend-b; backend_b_app=$app_port
start_dp backend-b backend "$backend_b_app" "$(free_port)"
check "backend-b ready" wait_ready "$backend_b_admin"
ctl apply -f - >/dev/null <<'YAML'
type: MeshLoadBalancingStrategy
name: backend-by-user
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      loadBalancer: {type: RingHash}
      hashPolicies:
      - type: Header
        header: {name: x-user}
YAML
ring_applied() { curl -s "$web_admin/config_dump" | grep -q 'x-user'; }
check "the ring hash reached web's sidecar" wait_for 10 ring_applied
both_instances() {
  local seen=""
  for _ in $(seq 20); do seen+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/")$'\n'; done
  grep -qx backend <<<"$seen" && grep -qx backend-b <<<"$seen"
}
check "both instances serve requests without x-user" wait_for 10 both_instances
sticky=0; declare -A owner=()
for user in $(seq 20); do
  answers=$(for _ in $(seq 5); do curl -s --max-time 2 -H "x-user: u$user" "http://127.0.0.1:$web_out/"; done | sort -u)
  [ "$(wc -l <<<"$answers")" -eq 1 ] && sticky=$((sticky + 1))
  owner[$answers]=1
done
check "each of 20 users stays on one instance over 5 requests ($sticky/20)" test "$sticky" -eq 20
check "the users spread over both instances (${!owner[*]})" test "${#owner[@]}" -eq 2

# 5. MeshTimeout http.streamIdleTimeout: a backend silent for longer gets 408 at the idle timeout,
# while a response whose bytes keep coming is not idle; maxStreamDuration cuts a response that
# is still streaming when it is reached.
ctl apply -f - >/dev/null <<'YAML'
type: MeshTimeout
name: backend-stream
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      http: {requestTimeout: 10s, streamIdleTimeout: 500ms, maxStreamDuration: 1500ms}
YAML
stream_applied() { curl -s "$web_admin/config_dump" | grep -q '"stream_idle_timeout_ms":500[,}]'; }
check "the stream timeouts reached web's sidecar" wait_for 10 stream_applied
out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$web_out/slow?ms=3000")
echo "   silent backend: $out"
check "a silent backend gives 408 (got '$out')" test "${out%% *}" = 408
check "... at the 500 ms stream idle timeout ± 10 %" python3 -c "import sys; t=float('${out##* }'); sys.exit(0 if 0.45 <= t <= 0.8 else 1)"
# 10,000 bytes at 10,000 B/s: one second of bytes that never pause for 500 ms.
out=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "http://127.0.0.1:$web_out/bytes?n=10000&rate=10000")
check "a steady 1 s response is not idle (got '$out')" test "$out" = "200 10000"
start=$(now_ms)
set +e
size=$(curl -s -o /dev/null -w '%{size_download}' --max-time 5 "http://127.0.0.1:$web_out/bytes?n=40000&rate=10000")
rc=$?
set -e
took=$(($(now_ms) - start))
echo "   4 s response under a 1.5 s maxStreamDuration: curl rc $rc, $size bytes, ${took} ms"
check "maxStreamDuration cuts a long response short (rc $rc, $size of 40000 bytes)" test "$rc" -ne 0 -a "$size" -lt 40000
check "... at 1.5 s (took ${took} ms)" test "$took" -ge 1350 -a "$took" -le 2500

# The WebSocket tunnel is the request's stream: streamIdleTimeout (500 ms now) closes it when no
# byte moves, and bytes moving keep it open.
out=$(python3 tests/support/ws_client.py "127.0.0.1:$web_out" tick 4 0.2 2>&1) || true
# (either backend instance answers: the ring hash has no x-user to go by)
check "a tunnel with a frame every 200 ms stays open" test "$(grep -cE '^backend(-b)?: tick$' <<<"$out")" = 4
set +e
python3 tests/support/ws_client.py "127.0.0.1:$web_out" tick 2 1.2 >/dev/null 2>&1
rc=$?
set -e
check "a tunnel quiet for 1.2 s is closed by the 500 ms stream idle timeout (rc $rc)" test "$rc" -ne 0

# 6. Drain (SIGTERM): an idle keep-alive connection is closed by the proxy instead of holding
# the sidecar for its whole --drain-time (30 s by default), so it exits within a second or two.
python3 - "$web_out" >"$tmp/keepalive.out" 2>&1 <<'PY' &
import re, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"GET / HTTP/1.1\r\nHost: backend\r\n\r\n")
data = b""
while True:  # the whole answer: its head, then Content-Length bytes of body
    head, sep, body = data.partition(b"\r\n\r\n")
    if sep and len(body) >= int(re.search(rb"content-length: *(\d+)", head, re.I).group(1)):
        break
    part = s.recv(65536)
    if not part:
        sys.exit("closed before the answer: %r" % data)
    data += part
print("answered", flush=True)
start = time.monotonic()
while s.recv(65536):  # idle until the proxy closes it
    pass
print("closed after %.1f s idle" % (time.monotonic() - start))
PY
keepalive=$!
answered() { grep -q answered "$tmp/keepalive.out"; }
check "a keep-alive client got its answer and now idles" wait_for 10 answered
start=$(now_ms)
kill -TERM "$web_pid"
for _ in $(seq 100); do kill -0 "$web_pid" 2>/dev/null || break; sleep 0.1; done
took=$(($(now_ms) - start))
wait "$keepalive" || true
echo "   keep-alive client: $(cat "$tmp/keepalive.out"); sidecar gone after ${took} ms"
check "the draining sidecar closed the idle keep-alive connection" grep -q 'closed after' "$tmp/keepalive.out"
check "... and exited in ${took} ms (< 5 s, not the 30 s drain time)" test "$took" -lt 5000

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all HTTP feature checks passed"
