#!/usr/bin/env bash
# L7 traffic end to end (issue 5): real braid-cp, braid-dp sidecars with mTLS, python apps, curl.
# MeshHTTPRoute weighted split and header match, MeshRetry against a flaky backend, MeshTimeout's
# request timeout against a slow one; per-route stats and latency histograms on /stats/prometheus.
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

# Two versions of backend (http), and web with an outbound to it.
start_versioned() {  # start_versioned NAME VERSION
  start_app "$1"
  local port=$app_port inbound
  inbound=$(free_port)
  {
    printf 'type: Dataplane\nmesh: default\nname: %s\nnetworking:\n  address: 127.0.0.1\n' "$1"
    printf '  inbound:\n  - port: %s\n    servicePort: %s\n' "$inbound" "$port"
    printf '    tags: {braid.io/service: backend, braid.io/protocol: http, version: %s}\n' "$2"
  } >"$tmp/$1.yaml"
  ctl generate dataplane-token --mesh default --name "$1" --tag braid.io/service=backend \
    --valid-for 1h >"$tmp/$1.token"
  rm -f "$tmp/$1.admin-port"
  "$bin/braid-dp" run --cp-address "https://127.0.0.1:$xds_port" --ca-cert-file "$tmp/data/cp-ca.pem" \
    --dataplane-file "$tmp/$1.yaml" --dataplane-token-file "$tmp/$1.token" \
    --admin-address 127.0.0.1:0 --admin-port-file "$tmp/$1.admin-port" --concurrency 2 \
    >>"$tmp/$1.log" 2>&1 &
  pids+=($!)
  wait_file "$tmp/$1.admin-port"
  wait_ready "http://127.0.0.1:$(cat "$tmp/$1.admin-port")"
}
start_versioned backend-v1 v1
start_versioned backend-v2 v2
start_app web; web_app=$app_port
web_out=$(free_port)
dp_protocol=http start_dp web web "$web_app" "$(free_port)" backend "$web_out"
check "web ready" wait_ready "$web_admin"
both_seen() {
  local seen=""
  for _ in $(seq 20); do seen+=$(curl -s --max-time 2 "http://127.0.0.1:$web_out/"); done
  grep -q backend-v1 <<<"$seen" && grep -q backend-v2 <<<"$seen"
}
check "web reaches both versions" wait_for 10 both_seen

# 1. An 80/20 split: over 1,000 requests each version's share is within 3 points of its weight.
ctl apply -f - >/dev/null <<'YAML'
type: MeshHTTPRoute
name: backend-split
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      default:
        backendRefs:
        - {kind: MeshServiceSubset, name: backend, tags: {version: v1}, weight: 80}
        - {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 20}
YAML
split_applied() { curl -s "$web_admin/config_dump" | grep -q 'version=v1'; }
check "the split reached web's sidecar" wait_for 10 split_applied
v1=0; v2=0
for _ in $(seq 1000); do
  case $(curl -s --max-time 2 "http://127.0.0.1:$web_out/") in
    backend-v1) v1=$((v1 + 1)) ;;
    backend-v2) v2=$((v2 + 1)) ;;
  esac
done
echo "   split over 1000 requests: v1 $v1, v2 $v2"
check "v1 gets 80% ± 3 (got $v1/1000)" test "$v1" -ge 770 -a "$v1" -le 830
check "v2 gets 20% ± 3 (got $v2/1000)" test "$v2" -ge 170 -a "$v2" -le 230

# 2. A header match: requests with x-canary: yes go to v2 only, the others keep the split.
ctl apply -f - >/dev/null <<'YAML'
type: MeshHTTPRoute
name: backend-canary
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    rules:
    # With the same path as the split's rule, more header matches win (a rule without a path
    # would come after it: Kuma's rule order).
    - matches: [{path: {type: PathPrefix, value: /}, headers: [{type: Exact, name: x-canary, value: "yes"}]}]
      default:
        backendRefs:
        - {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 1}
YAML
canary_applied() { curl -s "$web_admin/config_dump" | grep -q 'x-canary'; }
check "the canary route reached web's sidecar" wait_for 10 canary_applied
canary=""
for _ in $(seq 50); do canary+="$(curl -s --max-time 2 -H 'x-canary: yes' "http://127.0.0.1:$web_out/") "; done
check "every x-canary request went to v2" bash -c "! grep -q backend-v1 <<<'$canary'"
check "... and all of them answered" test "$(grep -o backend-v2 <<<"$canary" | wc -l)" -eq 50

# 3. MeshRetry: a backend failing every other request succeeds for the caller.
ctl apply -f - >/dev/null <<'YAML'
type: MeshRetry
name: backend-retry
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      http:
        numRetries: 2
        retryOn: ["503"]
YAML
retry_applied() { curl -s "$web_admin/config_dump" | grep -q '"num_retries":2'; }
check "the retry policy reached web's sidecar" wait_for 10 retry_applied
failures=0
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$web_out/flaky")" = 200 ] ||
    failures=$((failures + 1))
done
check "100 requests to a flaky backend all succeed with retries (failures: $failures)" \
  test "$failures" -eq 0

# 4. MeshTimeout http.requestTimeout: a slow backend yields 504 at the timeout (± 10 %).
ctl apply -f - >/dev/null <<'YAML'
type: MeshTimeout
name: backend-timeout
mesh: default
spec:
  targetRef: {kind: Mesh}
  to:
  - targetRef: {kind: MeshService, name: backend}
    default:
      http: {requestTimeout: 500ms}
YAML
timeout_applied() { curl -s "$web_admin/config_dump" | grep -q '"timeout_ms":500[,}]'; }
check "the timeout reached web's sidecar" wait_for 10 timeout_applied
out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$web_out/slow?ms=2000")
echo "   slow request: $out"
check "a slow backend gives 504 (got '$out')" test "${out%% *}" = 504
check "... at 500 ms ± 10 %" python3 -c "import sys; t=float('${out##* }'); sys.exit(0 if 0.45 <= t <= 0.55 else 1)"

# 5. /stats/prometheus: the requests of one route are counted on it (status class, latency
# histogram with cumulative buckets), on its listener and on the cluster's tries.
curl -s "$web_admin/stats/prometheus" >"$tmp/stats-before"
sent=30
for _ in $(seq $sent); do
  curl -s -o /dev/null --max-time 2 -H 'x-canary: yes' "http://127.0.0.1:$web_out/" || true
done
route_counted() {
  curl -s "$web_admin/stats/prometheus" >"$tmp/stats-after"
  python3 - "$tmp/stats-before" "$tmp/stats-after" "$sent" >"$tmp/stats-check" 2>&1 <<'PY'
import re, sys
def scrape(path):
    series = []
    for line in open(path):
        m = re.match(r'^(\w+)(?:\{(.*)\})? (\S+)$', line.strip())
        if m: series.append((m.group(1), m.group(2) or "", float(m.group(3))))
    return series
before = {(n, l): v for n, l, v in scrape(sys.argv[1])}
after = scrape(sys.argv[2])
sent = int(sys.argv[3])
delta = lambda n, l, v: v - before.get((n, l), 0)
counts = {l: delta(n, l, v) for n, l, v in after if n == "braid_dp_route_rq_time_ms_count"}
hit = [l for l, d in counts.items() if d == sent]
assert len(hit) == 1 and all(d == 0 for l, d in counts.items() if l != hit[0]), counts
labels = hit[0]
print("route:", labels)
ok2xx = [delta(n, l, v) for n, l, v in after if n == "braid_dp_route_rq_2xx_total" and l == labels]
assert ok2xx == [sent], ok2xx
buckets = [(l, v) for n, l, v in after
           if n == "braid_dp_route_rq_time_ms_bucket" and l.startswith(labels + ",le=")]
values = [v for _, v in buckets]
assert len(values) == 20 and values == sorted(values), buckets
total = [v for n, l, v in after if n == "braid_dp_route_rq_time_ms_count" and l == labels][0]
assert buckets[-1][0].endswith('le="+Inf"') and values[-1] == total, (buckets[-1], total)
listener = re.match(r'listener="([^"]*)"', labels).group(1)
down = [delta(n, l, v) for n, l, v in after
        if n == "braid_dp_listener_downstream_rq_time_ms_count" and l == 'listener="%s"' % listener]
assert down == [sent], down
tries = [delta(n, l, v) for n, l, v in after if n == "braid_dp_cluster_upstream_rq_time_ms_count"]
assert sent in tries, tries
# Sections 3 and 4 retried on a route and timed out on one.
retries = sum(v for n, l, v in after if n == "braid_dp_route_rq_retry_total")
timeouts = sum(v for n, l, v in after if n == "braid_dp_route_rq_timeout_total")
assert retries > 0 and timeouts >= 1, (retries, timeouts)
print("ok; route retries %d, route timeouts %d" % (retries, timeouts))
PY
}
check "route stats: $sent requests counted on one route, its histogram cumulative" \
  wait_for 5 route_counted
sed 's/^/   /' "$tmp/stats-check"

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all HTTP checks passed"
