#!/usr/bin/env bash
# bench/mtls: the mesh path app → braid-dp outbound → braid-dp inbound → app (nginx), in one run
# on loopback, first in a plaintext mesh, then with the same processes after the Mesh is re-applied
# with a builtin mTLS backend and an allow-all MeshTrafficPermission. In each mode, next to the app
# direct (the baseline of that mode): keep-alive requests/s at saturation (wrk), latency at
# 1,000 req/s (braid-openloop), and new connections/s with every request on a new connection
# (wrk with "Connection: close", so each request is a proxy-to-proxy TLS handshake in mTLS).
# Prints a table; differences are mTLS minus plaintext, latencies are added over direct.
# Not a test; needs nginx and wrk (`scripts/setup --bench`), root for SCHED_FIFO.
#   bench/mtls.sh            (about 2 minutes)
#   PROFILE=1 bench/mtls.sh  (also: perf profiles of the two sidecars under the new-connection load
#                             in mTLS)
#   ROUNDS, WRK_SECONDS, WRK_CONNECTIONS, CLOSE_CONNECTIONS, LATENCY_SECONDS: defaults below.
# CPUs: both sidecars on PROXY_CPU (default 0); nginx, the load generators and braid-cp on
# CLIENT_CPU (default 1). Latency is also measured with the sidecars moved onto CLIENT_CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup --bench
./scripts/build --target braid-cp braid-dp braidctl braid-openloop >/dev/null

bin=build/bin
proxy_cpu=${PROXY_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
rounds=${ROUNDS:-3}
wrk_seconds=${WRK_SECONDS:-4}
wrk_connections=${WRK_CONNECTIONS:-64}
close_connections=${CLOSE_CONNECTIONS:-16}
latency_seconds=${LATENCY_SECONDS:-2.5}  # per round; the first 0.5 s is warm-up
rate=1000

work=$(mktemp -d /tmp/braid-bench-mtls.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench=mtls
source bench/lib.sh


load_before=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src/dataplane || commit="$commit + uncommitted changes in src/dataplane"
read -r app_port app_in web_in web_out <<<"$(free_ports 4)"

# --- the app: nginx, one worker, in the foreground, everything in $work ---------------------------
start_nginx "" "  server {
    listen 127.0.0.1:$app_port backlog=4096;
    location = / { default_type text/plain; return 200 \"ok\\n\"; }
  }"

# --- braid-cp, a plaintext mesh, and the two sidecars ---------------------------------------------
taskset -c "$client_cpu" "$bin/braid-cp" run --data-dir "$work/cp" --store memory \
  --api-address 127.0.0.1:0 --xds-address 127.0.0.1:0 --kds-address 127.0.0.1:0 --dp-auth none \
  --log-level warn >"$work/cp.log" 2>&1 &
pids+=($!)
wait_file "$work/cp/ports.json" || die "braid-cp did not start"
api_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])' <"$work/cp/ports.json")
xds_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["xds"])' <"$work/cp/ports.json")
ctl() { "$bin/braidctl" --api "http://127.0.0.1:$api_port" "$@"; }
printf 'type: Mesh\nname: default\n' | ctl apply -f - >/dev/null

start_mesh_path

paths=(direct mesh)
declare -A base
base[direct]=http://127.0.0.1:$app_port
base[mesh]=http://127.0.0.1:$web_out
wait_for 10 is_200 "${base[mesh]}/" || die "no answer on the mesh path"

move_proxies() {  # move_proxies CPUS
  taskset -a -p -c "$1" "$app_dp_pid" >/dev/null
  taskset -a -p -c "$1" "$web_dp_pid" >/dev/null
}
realtime() { realtime_pids "$1" "$nginx_pid" "$app_dp_pid" "$web_dp_pid"; }  # nginx, sidecars
rt=(chrt -f 10)
if realtime on 2>/dev/null; then
  realtime off
  scheduling=SCHED_FIFO
else
  realtime off 2>/dev/null || true
  rt=()
  scheduling="normal scheduling (SCHED_FIFO refused: not root?)"
fi

# Everything measured in one mode, keyed MODE:…; each phase runs in rounds that go through direct
# and mesh in turn, so whatever else the machine does lands on both alike.
declare -A rps cpu_us conns conn_cpu_us lat err handshakes resumed
measure() {  # measure MODE
  local mode=$1 round p out r before after hs0 rs0
  local -A ticks requests
  for p in "${paths[@]}"; do
    err[$mode:$p]=0 rps[$mode:$p]=0 conns[$mode:$p]=0
  done

  # (a) keep-alive requests/s at saturation, and the sidecars' CPU per request.
  echo "== $mode: saturation, wrk -t1 -c$wrk_connections, $rounds rounds of ${wrk_seconds}s" \
    "($SECONDS s)"
  ticks=() requests=()
  for round in $(seq "$rounds"); do
    for p in "${paths[@]}"; do
      before=$(cpu_ticks "$app_dp_pid" "$web_dp_pid")
      out=$(run_client wrk -t1 -c"$wrk_connections" -d"${wrk_seconds}s" "${base[$p]}/")
      after=$(cpu_ticks "$app_dp_pid" "$web_dp_pid")
      r=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
      rps[$mode:$p]=$(max "${rps[$mode:$p]}" "$r")
      requests[$p]=$((${requests[$p]:-0} + $(echo "$out" | awk '/requests in/ {print $1}')))
      ticks[$p]=$((${ticks[$p]:-0} + after - before))
      if echo "$out" | grep -q -e 'Socket errors' -e 'Non-2xx'; then
        err[$mode:$p]=$((${err[$mode:$p]} + 1))
      fi
      printf '  round %s %-6s %10s req/s\n' "$round" "$p" "$r"
    done
  done
  # Both sidecars' CPU time per request (ticks are 10 ms).
  cpu_us[$mode]=$(awk -v t="${ticks[mesh]}" -v n="${requests[mesh]}" \
    'BEGIN {printf "%.1f", t * 1e4 / n}')

  # (b) latency at 1,000 req/s, SCHED_FIFO, in two placements: split (sidecars on PROXY_CPU, so
  # a request crosses CPUs four times) and shared (sidecars on CLIENT_CPU with nginx and the
  # generator: the sidecars' own processing). Samples of all rounds merged per path.
  [ ${#rt[@]} -eq 0 ] || realtime on
  for layout in split shared; do
    if [ "$layout" = shared ]; then move_proxies "$client_cpu"; fi
    echo "== $mode: latency ($layout, $scheduling), braid-openloop $rate/s, 8 connections," \
      "$rounds rounds of ${latency_seconds}s (0.5 s warm-up) ($SECONDS s)"
    for round in $(seq "$rounds"); do
      for p in "${paths[@]}"; do
        out=$(run_client "${rt[@]}" "$bin/braid-openloop" --url "${base[$p]}/" --rate "$rate" \
          --duration "${latency_seconds}s" --warmup 500ms --connections 8 \
          --samples "$work/lat.$mode.$layout.$p" | grep '^RESULT') ||
          die "braid-openloop failed on the $p path ($mode)"
        [ "$(echo "$out" | field errors)" = 0 ] && [ "$(echo "$out" | field unfinished)" = 0 ] ||
          err[$mode:$p]=$((${err[$mode:$p]} + 1))
        printf '  %-6s round %s %-6s %s\n' "$layout" "$round" "$p" "${out#RESULT }"
      done
    done
    for p in "${paths[@]}"; do
      read -r a b c <<<"$(percentiles "$work/lat.$mode.$layout.$p")"
      lat[$mode:$layout:$p:p50]=$a lat[$mode:$layout:$p:p99]=$b lat[$mode:$layout:$p:p999]=$c
    done
  done
  [ ${#rt[@]} -eq 0 ] || realtime off
  move_proxies "$proxy_cpu"

  # (c) a new connection for every request: nginx closes after each response, so does the path
  # back to wrk, and wrk reconnects. Through the mesh, each is a new outbound → inbound connection
  # (in mTLS a TLS handshake, counted by the inbound). Sidecars on PROXY_CPU, one core.
  echo "== $mode: new connections, wrk -t1 -c$close_connections 'Connection: close'," \
    "$rounds rounds of ${wrk_seconds}s ($SECONDS s)"
  ticks=() requests=()
  hs0=$(counter "$app_admin" braid_dp_listener_ssl_handshakes_total)
  rs0=$(counter "$web_admin" braid_dp_cluster_upstream_ssl_session_reused_total)
  for round in $(seq "$rounds"); do
    for p in "${paths[@]}"; do
      before=$(cpu_ticks "$app_dp_pid" "$web_dp_pid")
      out=$(run_client wrk -t1 -c"$close_connections" -d"${wrk_seconds}s" \
        -H 'Connection: close' "${base[$p]}/")
      after=$(cpu_ticks "$app_dp_pid" "$web_dp_pid")
      r=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
      conns[$mode:$p]=$(max "${conns[$mode:$p]}" "$r")
      requests[$p]=$((${requests[$p]:-0} + $(echo "$out" | awk '/requests in/ {print $1}')))
      ticks[$p]=$((${ticks[$p]:-0} + after - before))
      if echo "$out" | grep -q -e 'Socket errors' -e 'Non-2xx'; then
        err[$mode:$p]=$((${err[$mode:$p]} + 1))
        echo "$out" | grep -e 'Socket errors' -e 'Non-2xx' | sed 's/^/    /'
      fi
      printf '  round %s %-6s %10s conn/s\n' "$round" "$p" "$r"
    done
  done
  handshakes[$mode]=$(($(counter "$app_admin" braid_dp_listener_ssl_handshakes_total) - hs0))
  r=$(counter "$web_admin" braid_dp_cluster_upstream_ssl_session_reused_total)
  resumed[$mode]=$((r - rs0))
  conn_cpu_us[$mode]=$(awk -v t="${ticks[mesh]}" -v n="${requests[mesh]}" \
    'BEGIN {printf "%.1f", t * 1e4 / n}')
  echo "  mesh: ${requests[mesh]} connections, ${handshakes[$mode]} TLS handshakes at the inbound" \
    "(${resumed[$mode]} resumed)"
}

measure plaintext

# --- switch the same sidecars to mTLS ------------------------------------------------------------
echo "== switching the mesh to mTLS (builtin CA) ($SECONDS s)"
switch_start=$SECONDS
switch_mesh_to_mtls "${base[mesh]}/"
switch_seconds=$((SECONDS - switch_start))
echo "  both sidecars ready with certificates, traffic over mTLS, plaintext refused" \
  "(${switch_seconds} s)"

measure mtls

if [ "${PROFILE:-0}" = 1 ]; then
  echo "== mtls: new connections through the mesh, perf record -e cpu-clock of both sidecars"
  perf record -q -e cpu-clock -F 4999 -g -p "$app_dp_pid,$web_dp_pid" -o "$work/conn.perf" \
    -- sleep 5 >/dev/null 2>&1 &
  perf_pid=$!
  run_client wrk -t1 -c"$close_connections" -d5s -H 'Connection: close' "${base[mesh]}/" >/dev/null
  wait "$perf_pid" || true
  perf report -i "$work/conn.perf" --stdio --no-children --sort dso 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -8 || true
  perf report -i "$work/conn.perf" --stdio --no-children --sort dso,sym 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -30 || true
fi

# --- the tables -----------------------------------------------------------------------------------
delta() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.0f", a - b}'; }
delta1() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f", a - b}'; }
per_core() { awk -v u="$1" 'BEGIN {if (u > 0) printf "%.0f", 1e6 / u; else print "-"}'; }
echo
echo "bench/mtls $(date -u +%Y-%m-%d) on $(nproc) cores; load average before/after:" \
  "$load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sidecars on CPU $proxy_cpu; nginx, wrk, braid-openloop and braid-cp on CPU $client_cpu" \
  "(except latency 'shared'); braid-dp at $commit; switch to mTLS took ${switch_seconds} s"
echo
echo "| mode | direct req/s | mesh req/s (× direct) | sidecars CPU µs/request |" \
  "direct conn/s | mesh conn/s (× direct) | sidecars CPU µs/connection (→ conn/s per core) |" \
  "TLS handshakes (resumed) | runs with errors |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in plaintext mtls; do
  echo "| $m | ${rps[$m:direct]%.*} | ${rps[$m:mesh]%.*} ($(ratio "${rps[$m:mesh]}" \
    "${rps[$m:direct]}")) | ${cpu_us[$m]} | ${conns[$m:direct]%.*} | ${conns[$m:mesh]%.*}" \
    "($(ratio "${conns[$m:mesh]}" "${conns[$m:direct]}")) | ${conn_cpu_us[$m]}" \
    "($(per_core "${conn_cpu_us[$m]}")) | ${handshakes[$m]} (${resumed[$m]}) |" \
    "$((${err[$m:direct]} + ${err[$m:mesh]})) |"
done
echo
echo "latency at $rate req/s from the intended send time, $scheduling (µs):"
echo "| mode | CPUs | direct p50 / p99 / p99.9 | mesh p50 / p99 / p99.9 | added p50 | added p99 |"
echo "|---|---|---|---|---|---|"
for layout in split shared; do
  for m in plaintext mtls; do
    d=$m:$layout:direct k=$m:$layout:mesh
    echo "| $m | $layout | ${lat[$d:p50]} / ${lat[$d:p99]} / ${lat[$d:p999]} |" \
      "${lat[$k:p50]} / ${lat[$k:p99]} / ${lat[$k:p999]} |" \
      "$(delta "${lat[$k:p50]}" "${lat[$d:p50]}") | $(delta "${lat[$k:p99]}" "${lat[$d:p99]}") |"
  done
done
added() { delta "${lat[$1:$2:mesh:$3]}" "${lat[$1:$2:direct:$3]}"; }  # added MODE LAYOUT pN
echo
echo "mTLS minus plaintext:"
echo "  keep-alive req/s, mesh:                 $(ratio "${rps[mtls:mesh]}" \
  "${rps[plaintext:mesh]}")×; sidecars CPU per request $(delta1 "${cpu_us[mtls]}" \
  "${cpu_us[plaintext]}") µs"
echo "  new connections/s, mesh (wrk):          $(ratio "${conns[mtls:mesh]}" \
  "${conns[plaintext:mesh]}")×; per core (CPU) $(per_core "${conn_cpu_us[mtls]}") vs" \
  "$(per_core "${conn_cpu_us[plaintext]}") = $(ratio "${conn_cpu_us[plaintext]}" \
  "${conn_cpu_us[mtls]}")×; CPU per connection $(delta1 "${conn_cpu_us[mtls]}" \
  "${conn_cpu_us[plaintext]}") µs"
# Both ways: the added figures take out drift of the machine between the two phases (direct is
# measured in each); the mesh's own percentiles do not carry direct's noise.
for layout in split shared; do
  echo "  added p50 / p99 at $rate/s, $layout:        $(delta "$(added mtls $layout p50)" \
    "$(added plaintext $layout p50)") / $(delta "$(added mtls $layout p99)" \
    "$(added plaintext $layout p99)") µs; mesh p50 / p99 $(delta \
    "${lat[mtls:$layout:mesh:p50]}" "${lat[plaintext:$layout:mesh:p50]}") / $(delta \
    "${lat[mtls:$layout:mesh:p99]}" "${lat[plaintext:$layout:mesh:p99]}") µs"
done
echo "target: mTLS adds ≤ 50 µs p99 at $rate req/s over the plaintext mesh path (added):" \
  "split $(delta "$(added mtls split p99)" "$(added plaintext split p99)") µs," \
  "shared $(delta "$(added mtls shared p99)" "$(added plaintext shared p99)") µs"
