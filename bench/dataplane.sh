#!/usr/bin/env bash
# bench/dataplane: the same load, in one run on loopback, against an app (nginx) directly, through
# HAProxy (mode tcp, one thread), through one braid-dp hop (its inbound, one worker), and along
# the mesh path app → braid-dp outbound → braid-dp inbound → app. Measures keep-alive requests/s
# at saturation (wrk), latency at fixed rates with an open-loop generator (braid-openloop),
# bulk throughput of a 1 GiB response (braid-bulk-get), each proxy's RSS, and the RSS of a
# braid-dp with 100 outbounds. Prints a table; ratios are to the direct figures of the same run.
# Not a test; needs nginx, haproxy and wrk (installed by `scripts/setup --bench`), root for SCHED_FIFO, perf for PROFILE.
#   bench/dataplane.sh            (about 3 minutes)
#   PROFILE=1 bench/dataplane.sh  (also: system calls per request and perf profiles of braid-dp
#                                  and HAProxy at saturation)
#   HOLD=1 bench/dataplane.sh     (sets up, prints the addresses and waits: for probing by hand)
#   ROUNDS, WRK_SECONDS, WRK_CONNECTIONS, LATENCY_SECONDS: see their defaults below.
# CPUs: proxies on PROXY_CPU (default 0); nginx, the load generators and braid-cp on CLIENT_CPU
# (default 1), so the proxy under test has a core to itself; the latency and bulk phases also
# measure other placements (see there).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup --bench
./scripts/build --target braid-cp braid-dp braidctl braid-openloop braid-bulk-get >/dev/null

bin=build/bin
proxy_cpu=${PROXY_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
rounds=${ROUNDS:-3}
wrk_seconds=${WRK_SECONDS:-4}
wrk_connections=${WRK_CONNECTIONS:-64}
latency_seconds=${LATENCY_SECONDS:-2.5}  # per round; the first 0.5 s is warm-up
services=100

work=$(mktemp -d /tmp/braid-bench-dp.XXXXXX)
www=$(mktemp -d /dev/shm/braid-bench-dp.XXXXXX)  # the 1 GiB body, in memory
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work" "$www"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench=dataplane
source bench/lib.sh

# free_ports N: N distinct free loopback ports.
wait_http() {  # wait_http URL: until it answers 200
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
rss_anon() { echo "$(rss_kib "$1") ($(anon_kib "$1"))"; }  # RSS (of which anonymous), KiB

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src/dataplane || commit="$commit + uncommitted changes in src/dataplane"
read -r app_port haproxy_port app_in web_in web_out many_in <<<"$(free_ports 6)"

# --- the app: nginx, one worker, in the foreground, everything in $work ---------------------------
head -c 1G /dev/zero >"$www/big"
start_nginx "  sendfile on;" "  server {
    listen 127.0.0.1:$app_port backlog=4096;
    root $www;
    location = / { default_type text/plain; return 200 \"ok\\n\"; }
    location = /big { default_type application/octet-stream; }
  }"

# --- HAProxy: one thread, mode tcp, in the foreground ---------------------------------------------
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
listen app
  bind 127.0.0.1:$haproxy_port
  server app 127.0.0.1:$app_port
EOF
taskset -c "$proxy_cpu" haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")

# --- braid-cp and the sidecars --------------------------------------------------------------------
taskset -c "$client_cpu" "$bin/braid-cp" run --data-dir "$work/cp" --store memory \
  --api-address 127.0.0.1:0 --xds-address 127.0.0.1:0 --kds-address 127.0.0.1:0 --dp-auth none \
  --log-level warn >"$work/cp.log" 2>&1 &
pids+=($!)
wait_file "$work/cp/ports.json" || die "braid-cp did not start"
api_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])' <"$work/cp/ports.json")
xds_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["xds"])' <"$work/cp/ports.json")
api=http://127.0.0.1:$api_port
printf 'type: Mesh\nname: default\n' | "$bin/braidctl" --api "$api" apply -f - >/dev/null

start_mesh_path

# The four paths: URL base and the proxy processes whose CPU time and memory they cost.
paths=(direct haproxy hop mesh)
declare -A base procs
base[direct]=http://127.0.0.1:$app_port
base[haproxy]=http://127.0.0.1:$haproxy_port
base[hop]=http://127.0.0.1:$app_in
base[mesh]=http://127.0.0.1:$web_out
procs[direct]=""
procs[haproxy]=$haproxy_pid
procs[hop]=$app_dp_pid
procs[mesh]="$app_dp_pid $web_dp_pid"
for p in "${paths[@]}"; do
  wait_http "${base[$p]}/" || die "no answer on the $p path (${base[$p]}/)"
done
if [ "${HOLD:-0}" = 1 ]; then  # keep the setup up for probing by hand; Ctrl-C ends it
  for p in "${paths[@]}"; do echo "$p ${base[$p]}/ pids: ${procs[$p]}"; done
  echo "braid-cp $api; work dir $work"
  sleep infinity &
  wait $!
fi

# Each measurement runs in rounds that go through the four paths in turn, so that whatever else
# the machine is doing lands on all of them alike.
declare -A rps cpu_us err bulk bulk_cpu rss ticks requests
for p in "${paths[@]}"; do err[$p]=0 rps[$p]=0 ticks[$p]=0 requests[$p]=0; done

echo "== saturation: wrk -t1 -c$wrk_connections, $rounds rounds of ${wrk_seconds}s, best" \
  "($SECONDS s)"
for round in $(seq "$rounds"); do
  for p in "${paths[@]}"; do
    # shellcheck disable=SC2086
    before=$(cpu_ticks ${procs[$p]})
    out=$(run_client wrk -t1 -c"$wrk_connections" -d"${wrk_seconds}s" "${base[$p]}/")
    # shellcheck disable=SC2086
    after=$(cpu_ticks ${procs[$p]})
    r=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    rps[$p]=$(max "${rps[$p]}" "$r")
    requests[$p]=$((requests[$p] + $(echo "$out" | awk '/requests in/ {print $1}')))
    ticks[$p]=$((ticks[$p] + after - before))
    if echo "$out" | grep -q -e 'Socket errors' -e 'Non-2xx'; then err[$p]=$((err[$p] + 1)); fi
    printf '  round %s %-8s %10s req/s\n' "$round" "$p" "$r"
  done
done
for p in "${paths[@]}"; do
  # CPU time the proxies spent per request over all rounds (ticks are 10 ms).
  cpu_us[$p]=$(awk -v t="${ticks[$p]}" -v n="${requests[$p]}" 'BEGIN {printf "%.1f", t * 1e4 / n}')
done

# Latency in two placements. split: each proxy on PROXY_CPU, so every hop crosses between CPUs
# (on a VM that is an IPI and often an idle vCPU waking up). shared: the proxies moved onto
# CLIENT_CPU with nginx and the generator, so the figure is the proxies' own processing; only at
# 1,000 req/s, since at 10,000 one CPU running all of them is close to saturation.
# nginx, the proxies and the generator run SCHED_FIFO meanwhile (root only), so that other work on
# this shared machine does not make the tails; all paths get the same treatment. Each path's
# samples from all rounds are merged before taking percentiles.
declare -A lat  # lat[LAYOUT:RATE:PATH:pN] = microseconds
move_proxies() {  # move_proxies CPUS [MORE PIDS]
  local cpus=$1 pid
  shift
  for pid in "$haproxy_pid" "$app_dp_pid" "$web_dp_pid" "$@"; do
    taskset -a -p -c "$cpus" "$pid" >/dev/null
  done
}
realtime() { realtime_pids "$1" "$nginx_pid" "$haproxy_pid" "$app_dp_pid" "$web_dp_pid"; }
rt=(chrt -f 10)
if realtime on 2>/dev/null; then
  scheduling=SCHED_FIFO
else
  realtime off 2>/dev/null || true
  rt=()
  scheduling="normal scheduling (SCHED_FIFO refused: not root?)"
fi
for layout in split shared; do
  rates=(1000 10000)
  if [ "$layout" = shared ]; then
    move_proxies "$client_cpu"
    rates=(1000)
  fi
  echo "== latency ($layout, $scheduling): braid-openloop, 8 connections, $rounds rounds of" \
    "${latency_seconds}s (0.5 s warm-up each) ($SECONDS s)"
  for rate in "${rates[@]}"; do
    for round in $(seq "$rounds"); do
      for p in "${paths[@]}"; do
        out=$(run_client "${rt[@]}" "$bin/braid-openloop" --url "${base[$p]}/" --rate "$rate" \
          --duration "${latency_seconds}s" --warmup 500ms --connections 8 \
          --samples "$work/lat.$layout.$rate.$p" | grep '^RESULT') ||
          die "braid-openloop failed on the $p path"
        [ "$(echo "$out" | field errors)" = 0 ] && [ "$(echo "$out" | field unfinished)" = 0 ] ||
          err[$p]=$((err[$p] + 1))
        printf '  %-6s round %s %-8s %6s/s  %s\n' "$layout" "$round" "$p" "$rate" "${out#RESULT }"
      done
    done
    for p in "${paths[@]}"; do
      read -r a b c <<<"$(percentiles "$work/lat.$layout.$rate.$p")"
      lat[$layout:$rate:$p:p50]=$a lat[$layout:$rate:$p:p99]=$b lat[$layout:$rate:$p:p999]=$c
    done
  done
done
[ ${#rt[@]} -eq 0 ] || realtime off
move_proxies "$proxy_cpu"

# Bulk, in two placements. pinned: as above, the proxies have CPU 0 to themselves while nginx and
# the client share CPU 1 (so the direct transfer gets one CPU, a proxied one two). unpinned: any
# process on any CPU (the direct transfer may use both too; a proxied one has three processes on
# two CPUs). The proxies' CPU time per GiB moved does not depend on the placement much.
declare -A bulk_ticks
for layout in pinned unpinned; do
  if [ "$layout" = unpinned ]; then
    move_proxies "$proxy_cpu,$client_cpu" "$nginx_pid"
    client=()
  else
    client=(taskset -c "$client_cpu")
  fi
  echo "== bulk ($layout): one 1 GiB response, $rounds rounds, best ($SECONDS s)"
  for round in $(seq "$rounds"); do
    for p in "${paths[@]}"; do
      # shellcheck disable=SC2086
      before=$(cpu_ticks ${procs[$p]})
      out=$("${client[@]}" "$bin/braid-bulk-get" --url "${base[$p]}/big" --repeat 1 |
        grep '^RESULT') || die "bulk fetch failed on the $p path"
      # shellcheck disable=SC2086
      after=$(cpu_ticks ${procs[$p]})
      bulk_ticks[$p]=$((${bulk_ticks[$p]:-0} + after - before))
      r=$(echo "$out" | field best_mbps)
      bulk[$layout:$p]=$(max "${bulk[$layout:$p]:-0}" "$r")
      printf '  round %s %-8s %6s MB/s\n' "$round" "$p" "$r"
    done
  done
done
move_proxies "$proxy_cpu"
taskset -a -p -c "$client_cpu" "$nginx_pid" >/dev/null
for p in "${paths[@]}"; do
  # Proxy CPU seconds per GiB moved, over both placements (ticks are 10 ms).
  bulk_cpu[$p]=$(awk -v t="${bulk_ticks[$p]}" -v n=$((2 * rounds)) \
    'BEGIN {printf "%.2f", t / 100 / n}')
done

rss[direct]=-
rss[haproxy]=$(rss_anon "$haproxy_pid")
rss[hop]=$(rss_anon "$app_dp_pid")
rss[mesh]="$(rss_anon "$web_dp_pid") + hop"

# --- RSS with 100 services: 100 Dataplanes registered through the REST API, and one braid-dp
# with an outbound to each. Their inbounds point at nginx, so traffic can go through one. ------
echo "== one braid-dp with $services outbounds ($SECONDS s)"
# The registered inbounds' servicePort is unused: the CP only requires it to differ from port.
read -r -a many_ports <<<"$(free_ports $((services + 1)))"
unused_port=${many_ports[$services]}
{
  printf 'type: Dataplane\nmesh: default\nname: many\nnetworking:\n  address: 127.0.0.1\n'
  printf '  inbound:\n  - port: %s\n    servicePort: %s\n' "$many_in" "$app_port"
  printf '    tags: {braid.io/service: many, braid.io/protocol: tcp}\n  outbound:\n'
  for i in $(seq "$services"); do
    printf '  - port: %s\n    tags: {braid.io/service: svc-%s}\n' "${many_ports[$((i - 1))]}" "$i"
    format='{"type":"Dataplane","mesh":"default","name":"svc-%s","networking":'
    format+='{"address":"127.0.0.1","inbound":[{"port":%s,"servicePort":%s,'
    format+='"tags":{"braid.io/service":"svc-%s","braid.io/protocol":"tcp"}}]}}'
    # shellcheck disable=SC2059
    body=$(printf "$format" "$i" "$app_port" "$unused_port" "$i")
    code=$(curl -s -o "$work/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
      --data "$body" "$api/meshes/default/dataplanes/svc-$i")
    case $code in 200 | 201) ;; *) die "PUT dataplane svc-$i: $code $(cat "$work/put.out")" ;; esac
  done
} >"$work/many.yaml"
start_dp many "$work/many.yaml"
many_pid=$dp_pid
svc_clusters() { curl -s "$dp_admin/clusters" | grep -o 'svc-[0-9]*::' | sort -u | wc -l; }
for _ in $(seq 200); do
  [ "$(svc_clusters)" -ge "$services" ] && break
  sleep 0.05
done
clusters=$(svc_clusters)
[ "$clusters" -ge "$services" ] || die "braid-dp many has $clusters of $services clusters"
listeners=$(curl -s "$dp_admin/stats/prometheus" |
  grep -c '^braid_dp_listener_connections_total{' || true)
many_idle=$(rss_anon "$many_pid")
run_client wrk -t1 -c"$wrk_connections" -d5s "http://127.0.0.1:${many_ports[0]}/" >/dev/null
many_loaded=$(rss_anon "$many_pid")
many_pss=$(awk '/^Pss:/ {print $2}' "/proc/$many_pid/smaps_rollup")
many_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$many_pid/status")
echo "  $clusters clusters, $listeners listeners; RSS (anonymous) ${many_idle} KiB configured," \
  "${many_loaded} KiB after 5 s of load through svc-1 (peak ${many_peak} KiB, PSS $many_pss KiB)"
echo "  its largest mappings by RSS (KiB):"
awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6 == "" ? "[anonymous]" : $6} /^Rss:/ {rss[name] += $2}
  END {for (n in rss) printf "    %6d %s\n", rss[n], n}' "/proc/$many_pid/smaps" |
  sort -rn | head -8 || true

if [ "${PROFILE:-0}" = 1 ]; then
  for target in hop haproxy; do
    pid=${procs[$target]}
    echo "== $target (pid $pid) at saturation: per request"
    perf stat -x, -e task-clock,page-faults,raw_syscalls:sys_enter \
      -e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_readv,syscalls:sys_enter_recvfrom \
      -e syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto -p "$pid" -o "$work/$target.stat" \
      -- sleep 5 &
    perf_pid=$!
    out=$(run_client wrk -t1 -c"$wrk_connections" -d5s "${base[$target]}/")
    wait "$perf_pid" || true
    count=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "  $(echo "$out" | awk '/^Requests\/sec:/ {print $2}') req/s"
    # task-clock is in ms: per request in µs.
    awk -F, -v n="$count" '$3 == "task-clock" {printf "  %-36s %6.2f us\n", "CPU", $1 * 1e3 / n}
      $3 ~ /sys_enter|faults/ {printf "  %-36s %6.2f\n", $3, $1 / n}' "$work/$target.stat"
    echo "== $target at saturation: perf record -e cpu-clock, by object, then top symbols"
    perf record -q -e cpu-clock -F 4999 -g -p "$pid" -o "$work/$target.perf" -- sleep 6 \
      >/dev/null 2>&1 &
    perf_pid=$!
    run_client wrk -t1 -c"$wrk_connections" -d6s "${base[$target]}/" >/dev/null
    wait "$perf_pid" || true
    perf report -i "$work/$target.perf" --stdio --no-children --sort dso 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -8 || true
    perf report -i "$work/$target.perf" --stdio --no-children --sort dso,sym 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -30 || true
  done
fi

# --- the tables -----------------------------------------------------------------------------------
added() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.0f", a - b}'; }
echo
echo "bench/dataplane $(date -u +%Y-%m-%d) on $(nproc) cores; load average before/after:" \
  "$load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "proxies on CPU $proxy_cpu; nginx, wrk, braid-openloop, braid-bulk-get and braid-cp on CPU" \
  "$client_cpu (except where a table says otherwise); braid-dp at $commit"
echo
echo "| path | req/s, wrk -c$wrk_connections (× direct) | proxy CPU µs/request |" \
  "bulk MB/s pinned (× direct) | bulk MB/s unpinned (× direct) | proxy CPU s/GiB |" \
  "RSS KiB (anonymous) | runs with errors |"
echo "|---|---|---|---|---|---|---|---|"
for p in "${paths[@]}"; do
  echo "| $p | ${rps[$p]%.*} ($(ratio "${rps[$p]}" "${rps[direct]}")) | ${cpu_us[$p]} |" \
    "${bulk[pinned:$p]} ($(ratio "${bulk[pinned:$p]}" "${bulk[pinned:direct]}")) |" \
    "${bulk[unpinned:$p]} ($(ratio "${bulk[unpinned:$p]}" "${bulk[unpinned:direct]}")) |" \
    "${bulk_cpu[$p]} | ${rss[$p]} | ${err[$p]} |"
done
echo
echo "latency from the intended send time, $scheduling:"
echo "| path | CPUs | rate/s | p50 µs | p99 µs | p99.9 µs | added p50 | added p99 |"
echo "|---|---|---|---|---|---|---|---|"
for layout in split shared; do
  for rate in 1000 10000; do
    [ -n "${lat[$layout:$rate:direct:p50]:-}" ] || continue
    for p in "${paths[@]}"; do
      k=$layout:$rate:$p
      d=$layout:$rate:direct
      echo "| $p | $layout | $rate | ${lat[$k:p50]} | ${lat[$k:p99]} | ${lat[$k:p999]} |" \
        "$(added "${lat[$k:p50]}" "${lat[$d:p50]}") | $(added "${lat[$k:p99]}" "${lat[$d:p99]}") |"
    done
  done
done
echo
echo "targets:"
echo "  one hop req/s ÷ HAProxy req/s:          $(ratio "${rps[hop]}" "${rps[haproxy]}") (≥ 1.0);" \
  "HAProxy CPU per request ÷ braid-dp's: $(ratio "${cpu_us[haproxy]}" "${cpu_us[hop]}")"
echo "  mesh path added p99 at 1,000 req/s:     split" \
  "$(added "${lat[split:1000:mesh:p99]}" "${lat[split:1000:direct:p99]}") µs, shared" \
  "$(added "${lat[shared:1000:mesh:p99]}" "${lat[shared:1000:direct:p99]}") µs (≤ +100)"
echo "  one hop bulk ÷ direct bulk:             pinned" \
  "$(ratio "${bulk[pinned:hop]}" "${bulk[pinned:direct]}"), unpinned" \
  "$(ratio "${bulk[unpinned:hop]}" "${bulk[unpinned:direct]}") (≥ 0.70)"
echo "  braid-dp RSS with $services outbounds:        ${many_loaded} KiB after load (≤ 10240)"
