#!/usr/bin/env bash
# bench/cp_scale: N simulated proxies connected to one braid-cp (in-memory store); how long a
# MeshTimeout change takes to reach every one of them, and what they cost the CP in memory and
# CPU. Not a test.
#   bench/cp_scale.sh [N …]      (default 1000; e.g. `bench/cp_scale.sh 1000 2000`)
# The load tool is bench/cp_scale_load.cc; each N gets a fresh braid-cp and three changes
# (connectionTimeout 3s, 4s, 6s), each measured from just before `braidctl apply` starts.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-1000}")
./scripts/build --target braid-cp braidctl cp_scale_load >/dev/null

work=$(mktemp -d /tmp/braid-cp-scale.XXXXXX)
cp_pid=""
load_pid=""
cleanup() {
  exec 7>&- 2>/dev/null || true
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ticks=$(getconf CLK_TCK)
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ms() { awk -v t="$ticks" '{print int(($14 + $15) * 1000 / t)}' "/proc/$1/stat"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

printed=0
show_new_lines() {  # prints the load tool's output lines not shown yet
  local total
  total=$(wc -l <"$work/load.out")
  [ "$total" -gt "$printed" ] && sed -n "$((printed + 1)),${total}p" "$work/load.out" | sed 's/^/   /'
  printed=$total
}
wait_for_lines() {  # wait_for_lines PATTERN COUNT: until the tool printed COUNT such lines
  while [ "$(grep -c "$1" "$work/load.out" || true)" -lt "$2" ]; do
    if ! kill -0 "$load_pid" 2>/dev/null; then
      show_new_lines
      echo "cp_scale_load exited early" >&2
      exit 1
    fi
    sleep 0.05
  done
  show_new_lines
}

# The load tool's quiet period does not prove the CP is done: registrations can still be queued
# behind its one syncer thread. Wait until its CPU use drops below 10% over half a second.
wait_cp_idle() {
  local began before after
  began=$(date +%s%3N)
  after=$(cpu_ms "$cp_pid")
  while true; do
    before=$after
    sleep 0.5
    after=$(cpu_ms "$cp_pid")
    [ $((after - before)) -lt 50 ] && break
  done
  echo "   braid-cp idle $(($(date +%s%3N) - began)) ms after the tool's READY"
}

runs=0
run_one() {
  runs=$((runs + 1))
  local n=$1 data=$work/cp-$runs
  "build/bin/braid-cp" run --data-dir "$data" --store memory --api-address 127.0.0.1:0 \
    --xds-address 127.0.0.1:0 --kds-address 127.0.0.1:0 --dp-auth none --log-level warn \
    >"$work/cp-$runs.log" 2>&1 &
  cp_pid=$!
  for _ in $(seq 100); do [ -s "$data/ports.json" ] && break; sleep 0.1; done
  local api xds
  api=http://127.0.0.1:$(sed -E 's/.*"api":([0-9]+).*/\1/' "$data/ports.json")
  xds=$(sed -E 's/.*"xds":([0-9]+).*/\1/' "$data/ports.json")
  printf 'type: Mesh\nname: default\n' | build/bin/braidctl --api "$api" apply -f - >/dev/null
  sleep 0.5
  local rss0 cpu0 rss1 cpu1 rss2 cpu2
  rss0=$(rss_kib "$cp_pid"); cpu0=$(cpu_ms "$cp_pid")

  echo "== $n dataplanes (10 services, 100 endpoints per outbound at 1,000), one braid-cp"
  rm -f "$work/go" && mkfifo "$work/go"
  : >"$work/load.out"; printed=0
  build/bin/cp_scale_load --target "127.0.0.1:$xds" --ca-file "$data/cp-ca.pem" --count "$n" \
    <"$work/go" >"$work/load.out" 2>&1 &
  load_pid=$!
  exec 7>"$work/go"
  wait_for_lines '^READY' 1
  wait_cp_idle
  rss1=$(rss_kib "$cp_pid"); cpu1=$(cpu_ms "$cp_pid")

  local round=1 t0
  for timeout in 3 4 6; do
    printf 'type: MeshTimeout\nmesh: default\nname: all\nspec:\n  targetRef: {kind: Mesh}\n  to:\n  - targetRef: {kind: Mesh}\n    default: {connectionTimeout: %ss}\n' \
      "$timeout" >"$work/timeout.yaml"
    t0=$(date +%s%3N)
    build/bin/braidctl --api "$api" apply -f "$work/timeout.yaml" >/dev/null
    echo "GO $t0 $((timeout * 1000))" >&7
    round=$((round + 1))
    wait_for_lines '^READY' "$round"
    wait_cp_idle
  done
  rss2=$(rss_kib "$cp_pid"); cpu2=$(cpu_ms "$cp_pid")
  exec 7>&-
  local status=0
  wait "$load_pid" || status=$?
  load_pid=""
  show_new_lines

  echo "   braid-cp RSS: idle $(mib "$rss0"); $n connected $(mib "$rss1"); after the changes $(mib "$rss2")"
  awk -v a="$rss0" -v b="$rss1" -v n="$n" \
    'BEGIN {printf "   per dataplane: %.1f KiB ((RSS_connected - RSS_idle) / %d)\n", (b - a) / n, n}'
  echo "   braid-cp CPU: $((cpu1 - cpu0)) ms to register and configure $n; $((cpu2 - cpu1)) ms for the 3 changes"
  echo "   braid-cp log (warn and above): $(wc -l <"$work/cp-$runs.log") lines"
  head -5 "$work/cp-$runs.log" | sed 's/^/     /'
  [ "$status" -eq 0 ] || echo "   cp_scale_load exited with $status"
  kill "$cp_pid"; wait "$cp_pid" || true; cp_pid=""
}

for n in "${counts[@]}"; do run_one "$n"; done
