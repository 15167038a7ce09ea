#!/usr/bin/env bash
# bench/cp_store: for 10,000 policies, the REST API's write rate and the time to list them all,
# on SQLite and on a real PostgreSQL server, each with a fresh braid-cp. Not a test.
#   bench/cp_store.sh [COUNT] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
connections=${2:-4}
./scripts/build --target braid-cp cp_store_load >/dev/null

work=$(mktemp -d /tmp/braid-bench.XXXXXX)
cp_pid=""
cleanup() {
  [ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null || true
  [ -n "${BRAID_TEST_POSTGRES_URI:-}" ] && tests/support/postgres stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run_one() {
  local label=$1 store=$2 data=$work/$1
  build/bin/braid-cp run --data-dir "$data" --store "$store" --api-address 127.0.0.1:0 --xds-address 127.0.0.1:0 \
    --dp-auth none --log-level error &
  cp_pid=$!
  for _ in $(seq 100); do [ -s "$data/ports.json" ] && break; sleep 0.1; done
  local port
  port=$(sed -E 's/.*"api":([0-9]+).*/\1/' "$data/ports.json")
  echo "== $label ($count policies, $connections connections)"
  build/bin/cp_store_load --port "$port" --count "$count" --connections "$connections"
  echo "   braid-cp RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$cp_pid/status)"
  kill "$cp_pid"; wait "$cp_pid" || true; cp_pid=""
}

run_one sqlite "sqlite:$work/sqlite/braid.db"
eval "$(tests/support/postgres start)"
run_one postgres "$BRAID_TEST_POSTGRES_URI"
