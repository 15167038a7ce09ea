#!/usr/bin/env bash
# braid-cp's lifecycle with the real binary on loopback: configuration errors, port 0 and
# ports.json, the data dir's files, authentication, SIGTERM, and a restart on SQLite that keeps
# everything.   BRAID_BIN: where braid-cp is (default build/bin); run from the repository root.
set -euo pipefail

bin=${BRAID_BIN:-build/bin}
tmp=$(mktemp -d)
cp_pid=""
cleanup() {
  [ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }

# start_cp ARGS…: starts braid-cp in the background on a fresh port and sets $api.
start_cp() {
  rm -f "$tmp/data/ports.json"
  "$bin/braid-cp" run --data-dir "$tmp/data" --api-address 127.0.0.1:0 --xds-address 127.0.0.1:0 "$@" >"$tmp/cp.log" 2>&1 &
  cp_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/data/ports.json" ] && break; sleep 0.05; done
  [ -s "$tmp/data/ports.json" ] || { cat "$tmp/cp.log" >&2; echo "braid-cp did not start" >&2; exit 1; }
  api="http://127.0.0.1:$(sed -E 's/.*"api":([0-9]+).*/\1/' "$tmp/data/ports.json")"
}

stop_cp() {
  local start=$SECONDS status=0
  kill -TERM "$cp_pid"
  wait "$cp_pid" || status=$?
  cp_pid=""
  expect_eq "exit status after SIGTERM" "$status" 0
  [ $((SECONDS - start)) -le 5 ] || fail "SIGTERM took more than 5 s"
  grep -q '"msg":"braid-cp stopped"' "$tmp/cp.log" || fail "no 'braid-cp stopped' log line"
}

status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# 1. Every configuration problem is reported at once, and nothing starts.
if "$bin/braid-cp" run --bogus 1 --dp-auth maybe >"$tmp/err" 2>&1; then
  fail "invalid flags were accepted"
fi
grep -q "unknown flag '--bogus'" "$tmp/err" || fail "unknown flag not named: $(cat "$tmp/err")"
grep -q -- "--dp-auth: invalid value 'maybe'" "$tmp/err" || fail "bad value not named"
printf 'store: memory\ncolour: blue\n' >"$tmp/bad.yaml"
if "$bin/braid-cp" run --config "$tmp/bad.yaml" >"$tmp/err" 2>&1; then fail "unknown key accepted"; fi
grep -q "unknown key 'colour'" "$tmp/err" || fail "unknown key not named: $(cat "$tmp/err")"

# 2. Port 0, ports.json, the data dir.
start_cp --dp-auth none --log-level debug
grep -q '"level":"warn","msg":"dataplane authentication is off' "$tmp/cp.log" ||
  fail "--dp-auth none is not logged as a warning"
expect_eq "data dir mode" "$(stat -c %a "$tmp/data")" 700
expect_eq "admin-token mode" "$(stat -c %a "$tmp/data/admin-token")" 600
token=$(cat "$tmp/data/admin-token")
[ ${#token} -ge 32 ] || fail "admin token too short"
grep -q "$token" "$tmp/cp.log" && fail "the admin token appears in the log"
expect_eq "GET /ready" "$(status_of "$api/ready")" 200
curl -s "$api/" | grep -q '"product":"braid"' || fail "GET / does not describe braid"

# 3. Writes, versions and /metrics.
expect_eq "PUT mesh" "$(status_of -X PUT "$api/meshes/default" -d '{"type":"Mesh","name":"default"}')" 201
policy='{"type":"MeshTimeout","mesh":"default","name":"t1","spec":{"targetRef":{"kind":"Mesh"},"to":[{"targetRef":{"kind":"Mesh"},"default":{"connectionTimeout":"2s"}}]}}'
expect_eq "PUT policy" "$(status_of -X PUT "$api/meshes/default/meshtimeouts/t1" -d "$policy")" 201
expect_eq "PUT same policy" "$(status_of -X PUT "$api/meshes/default/meshtimeouts/t1" -d "$policy")" 200
curl -s "$api/metrics" | grep -q 'braid_cp_resources{type="MeshTimeout"} 1' || fail "/metrics lacks the policy count"
before=$(curl -s "$api/meshes/default/meshtimeouts/t1")

# 4. SIGTERM, then a restart on the same SQLite file keeps everything, versions included.
stop_cp
start_cp --dp-auth none --loopback-admin false
expect_eq "token unchanged across restarts" "$(cat "$tmp/data/admin-token")" "$token"
expect_eq "no token, loopback not admin" "$(status_of "$api/meshes")" 401
expect_eq "wrong token" "$(status_of -H 'Authorization: Bearer nope' "$api/meshes")" 401
after=$(curl -s -H "Authorization: Bearer $token" "$api/meshes/default/meshtimeouts/t1")
expect_eq "policy after restart" "$after" "$before"
stop_cp

if [ "$failed" -ne 0 ]; then
  echo "cp_test: $failed check(s) failed" >&2
  exit 1
fi
echo "cp_test: all checks passed"
