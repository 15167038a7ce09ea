#!/usr/bin/env bash
# bench/http: braid-dp at L7, in one run on loopback, against the backend direct and two L7
# proxies in front of the same backend (nginx, 100-byte responses):
#  1. HTTP/1.1 keep-alive requests/s (h2load --h1) through one braid-dp hop (an `http` outbound,
#     routed by its HTTP connection manager), HAProxy (`mode http`, one thread) and nghttpx (one
#     worker, HTTP/1.1 backend), and direct; with each proxy's CPU time per request;
#  2. HTTP/2 (h2c prior knowledge) requests/s (h2load -m) through an `http2` outbound of braid-dp,
#     HAProxy (`proto h2` on both sides) and nghttpx (`proto=h2` backend) to nginx's h2c listener;
#     whether braid-dp handled it at L7 or L4 is read off its per-request counters;
#  3. latency at 1,000 req/s (braid-openloop: open loop, HTTP/1.1 keep-alive) of the mesh path
#     app → braid-dp outbound → braid-dp inbound → nginx with `braid.io/protocol: http`, in a
#     plaintext mesh and then with mTLS (builtin CA, allow-all MeshTrafficPermission), next to
#     the same path through two HAProxy "sidecars" (mode http, one thread each; mutual TLS 1.3
#     with P-256 certificates in the mTLS phase); added is a path minus direct of the same mode and
#     placement.
# Not a test; root for SCHED_FIFO and for installing what is missing.
#   bench/http.sh            (about 9 minutes on a quiet machine)
#   PROFILE=1 bench/http.sh  (also: perf profiles of braid-dp and HAProxy under the HTTP/1.1 load)
#   HOLD=1 bench/http.sh     (sets up, prints the addresses and waits: for probing by hand)
#   SKIP_BUILD=1 bench/http.sh (measures the binaries in build/bin as they are)
#   ROUNDS, SECONDS_PER_RUN, H1_CONNECTIONS, H2_CONNECTIONS, H2_STREAMS, LATENCY_SECONDS,
#   QUIET_WAIT: defaults below.
# CPUs: the proxy under test (and both sidecars) on PROXY_CPU (default 0); nginx, h2load,
# braid-openloop and braid-cp on CLIENT_CPU (default 1). Latency is measured in three placements:
# split (as above), pods (each app next to its own proxy: the caller's proxy with braid-openloop
# on CLIENT_CPU, the app's proxy with nginx on PROXY_CPU, as two pods on different CPUs) and
# shared (everything on CLIENT_CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

# --- what the bench needs -------------------------------------------------------------------------
./scripts/setup --bench
if ! command -v h2load >/dev/null || ! command -v nghttpx >/dev/null || ! command -v perf >/dev/null
then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # policy-rc.d exit 101: the nghttpx package must not start its own service.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=yes
  fi
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    nghttp2-client nghttp2-proxy linux-perf >/dev/null
  [ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi
# SKIP_BUILD=1 measures the binaries already in build/bin (say, while the tree does not build).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./scripts/build --target braid-cp braid-dp braidctl braid-openloop >"/tmp/bench-http-build.log" 2>&1 ||
    { tail -20 /tmp/bench-http-build.log >&2; echo "bench/http: build failed" >&2; exit 1; }
fi

bin=${BENCH_BIN:-build/bin}  # BENCH_BIN: measure binaries kept elsewhere (a copy while others build)
proxy_cpu=${PROXY_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
rounds=${ROUNDS:-3}
run_seconds=${SECONDS_PER_RUN:-10}
h1_connections=${H1_CONNECTIONS:-64}
h2_connections=${H2_CONNECTIONS:-4}
h2_streams=${H2_STREAMS:-10}
latency_seconds=${LATENCY_SECONDS:-2.5}  # per round; the first 0.5 s is warm-up
quiet_wait=${QUIET_WAIT:-180}            # seconds to wait for other sessions' builds to end
rate=1000

work=$(mktemp -d /tmp/braid-bench-http.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench=http
source bench/lib.sh

# Other sessions build on this machine; a compiler on either CPU skews a run. Each measured run
# waits up to QUIET_WAIT seconds for no compiler to run, and is run again (up to RETRIES times in
# all) when one ran at any point during it (sampled every 0.2 s). noisy_runs counts the runs kept
# although a compiler ran during them.
noisy_runs=0
retries=${RETRIES:-4}
wait_quiet() {
  local deadline=$((SECONDS + quiet_wait))
  while pgrep -f 'cc1plus|ninja' >/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
}
# quiet_run OUT_VAR COMMAND…: runs COMMAND (stdout and stderr into OUT_VAR) until once with no
# compiler running alongside, or RETRIES times; fails if COMMAND fails.
quiet_run() {
  local -n result=$1
  shift
  local attempt watcher
  for attempt in $(seq "$retries"); do
    wait_quiet
    rm -f "$work/busy"
    (while :; do pgrep -f 'cc1plus|ninja' >/dev/null && : >"$work/busy"; sleep 0.2; done) &
    watcher=$!
    taskset -p -c "$client_cpu" "$watcher" >/dev/null  # off the proxy's CPU
    result=$("$@" 2>&1) || { kill "$watcher"; wait "$watcher" 2>/dev/null; return 1; }
    kill "$watcher"
    wait "$watcher" 2>/dev/null || true
    [ -e "$work/busy" ] || return 0
    echo "    (a compiler ran during the run: again)"
  done
  noisy_runs=$((noisy_runs + 1))
}
proc_tree() {  # proc_tree PID: the process and its children (nghttpx forks its worker)
  echo "$1" $(pgrep -P "$1" || true)
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
built=$(date -u -r "$bin/braid-dp" +%H:%MZ)  # the binary the sidecars run (a later build replaces it)
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src/dataplane || commit="$commit + uncommitted changes in src/dataplane"
read -r h1_port h2_port haproxy_h1 haproxy_h2 nghttpx_h1 nghttpx_h2 hop_in hop_h1 hop_h2 \
  app_port app_in web_in web_out unused_port hp_out_plain hp_in_plain hp_out_tls hp_in_tls \
  <<<"$(free_ports 18)"

# --- the backend: nginx, one worker, HTTP/1.1 on h1_port and h2c (prior knowledge) on h2_port ----
body=$(printf 'x%.0s' $(seq 99))  # 99 bytes and a newline: 100-byte responses
start_nginx "  http2_max_concurrent_streams 256;" "  server {
    listen 127.0.0.1:$h1_port backlog=4096;
    listen 127.0.0.1:$app_port backlog=4096;
    location = / { default_type text/plain; return 200 \"$body\\n\"; }
  }
  server {
    listen 127.0.0.1:$h2_port http2 backlog=4096;
    location = / { default_type text/plain; return 200 \"$body\\n\"; }
  }"

# --- HAProxy: one thread, mode http, in the foreground --------------------------------------------
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
listen h1
  bind 127.0.0.1:$haproxy_h1
  server app 127.0.0.1:$h1_port
listen h2
  bind 127.0.0.1:$haproxy_h2 proto h2
  server app 127.0.0.1:$h2_port proto h2
EOF
taskset -c "$proxy_cpu" haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")

# --- the mesh path's baseline: two HAProxy sidecars, out (the caller's) → in (the app's) → nginx --
# Plaintext on one pair of ports; on the other, mutual TLS 1.3 with P-256 certificates from a
# throwaway CA (what braid's builtin CA issues), each side verifying the other's chain and the
# server's name as braid-dp checks its peer's SPIFFE ID.
pki=$work/pki
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
for side in in out; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$side" \
    -addext "subjectAltName=DNS:$side" -keyout "$pki/$side.key" 2>/dev/null |
    openssl x509 -req -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -days 2 -copy_extensions copy \
      -out "$pki/$side.crt" 2>/dev/null
  cat "$pki/$side.crt" "$pki/$side.key" >"$pki/$side.pem"
done
start_haproxy_sidecar() {  # start_haproxy_sidecar NAME LISTENS: one thread, mode http, on proxy_cpu
  printf '%s\n' global "  nbthread 1" "  maxconn 4000" defaults "  mode http" \
    "  timeout connect 5s" "  timeout client 300s" "  timeout server 300s" "$2" >"$work/$1.cfg"
  taskset -c "$proxy_cpu" haproxy -db -f "$work/$1.cfg" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
start_haproxy_sidecar hp-in "listen plain
  bind 127.0.0.1:$hp_in_plain
  server app 127.0.0.1:$app_port
listen tls
  bind 127.0.0.1:$hp_in_tls ssl crt $pki/in.pem ca-file $pki/ca.pem verify required ssl-min-ver TLSv1.3
  server app 127.0.0.1:$app_port"
hp_in_pid=${pids[-1]}
start_haproxy_sidecar hp-out "listen plain
  bind 127.0.0.1:$hp_out_plain
  server in 127.0.0.1:$hp_in_plain
listen tls
  bind 127.0.0.1:$hp_out_tls
  server in 127.0.0.1:$hp_in_tls ssl verify required ca-file $pki/ca.pem crt $pki/out.pem verifyhost in ssl-min-ver TLSv1.3"
hp_out_pid=${pids[-1]}

# --- nghttpx: one worker each, cleartext frontend (HTTP/1.1 and h2c prior knowledge) --------------
: >"$work/nghttpx.conf"
start_nghttpx() {  # start_nghttpx NAME PORT BACKEND
  taskset -c "$proxy_cpu" nghttpx --conf="$work/nghttpx.conf" --workers=1 \
    --frontend="127.0.0.1,$2;no-tls" --backend="$3" --backend-keep-alive-timeout=300s \
    --frontend-keep-alive-timeout=300s --errorlog-file="$work/$1.log" \
    --pid-file="$work/$1.pid" >>"$work/$1.log" 2>&1 &
  pids+=($!)
}
start_nghttpx nghttpx-h1 "$nghttpx_h1" "127.0.0.1,$h1_port"
nghttpx_h1_pid=${pids[-1]}
start_nghttpx nghttpx-h2 "$nghttpx_h2" "127.0.0.1,$h2_port;;proto=h2"
nghttpx_h2_pid=${pids[-1]}

# --- braid-cp, a plaintext mesh, the one-hop braid-dp, and the mesh path --------------------------
taskset -c "$client_cpu" "$bin/braid-cp" run --data-dir "$work/cp" --store memory \
  --api-address 127.0.0.1:0 --xds-address 127.0.0.1:0 --kds-address 127.0.0.1:0 --dp-auth none \
  --log-level warn >"$work/cp.log" 2>&1 &
pids+=($!)
wait_file "$work/cp/ports.json" || die "braid-cp did not start"
api_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["api"])' <"$work/cp/ports.json")
xds_port=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["xds"])' <"$work/cp/ports.json")
api=http://127.0.0.1:$api_port
ctl() { "$bin/braidctl" --api "$api" "$@"; }
printf 'type: Mesh\nname: default\n' | ctl apply -f - >/dev/null

# The backends as services of the mesh: the Dataplane "backends" has an inbound for each on nginx's
# ports, advertised at 127.0.0.1 (where nginx listens), so a braid-dp outbound to them goes straight
# to nginx. Its own braid-dp runs (idle: it listens on 127.0.0.2) because the CP marks the inbounds
# of a Dataplane without a connected sidecar unhealthy once its 10 s startup grace is over.
# The servicePort is unused (the CP only requires it to differ from the port).
printf '%s\n' "type: Dataplane" "mesh: default" "name: backends" "networking:" \
  "  address: 127.0.0.2" "  advertisedAddress: 127.0.0.1" "  inbound:" \
  "  - port: $h1_port" "    servicePort: $unused_port" \
  "    tags: {braid.io/service: backend-h1, braid.io/protocol: http}" \
  "  - port: $h2_port" "    servicePort: $unused_port" \
  "    tags: {braid.io/service: backend-h2, braid.io/protocol: http2}" >"$work/backends.yaml"
start_dp backends "$work/backends.yaml"
printf '%s\n' "type: Dataplane" "mesh: default" "name: hop" "networking:" \
  "  address: 127.0.0.1" "  inbound:" "  - port: $hop_in" "    servicePort: $h1_port" \
  "    tags: {braid.io/service: hop, braid.io/protocol: tcp}" "  outbound:" \
  "  - port: $hop_h1" "    tags: {braid.io/service: backend-h1}" \
  "  - port: $hop_h2" "    tags: {braid.io/service: backend-h2}" >"$work/hop.yaml"
start_dp hop "$work/hop.yaml"
hop_pid=$dp_pid hop_admin=$dp_admin

mesh_protocol=http start_mesh_path

declare -A h1_url h2_url procs
h1_url[direct]=http://127.0.0.1:$h1_port/
h1_url[haproxy]=http://127.0.0.1:$haproxy_h1/
h1_url[nghttpx]=http://127.0.0.1:$nghttpx_h1/
h1_url[braid]=http://127.0.0.1:$hop_h1/
h2_url[direct]=http://127.0.0.1:$h2_port/
h2_url[haproxy]=http://127.0.0.1:$haproxy_h2/
h2_url[nghttpx]=http://127.0.0.1:$nghttpx_h2/
h2_url[braid]=http://127.0.0.1:$hop_h2/
proxies=(direct haproxy nghttpx braid)
for p in "${proxies[@]}"; do
  wait_for 10 is_200 "${h1_url[$p]}" || die "no HTTP/1.1 answer on the $p path (${h1_url[$p]})"
  wait_for 10 is_200 --http2-prior-knowledge "${h2_url[$p]}" ||
    die "no h2c answer on the $p path (${h2_url[$p]})"
done
wait_for 10 is_200 "http://127.0.0.1:$web_out/" || die "no answer on the mesh path"
for port in "$hp_out_plain" "$hp_out_tls"; do
  wait_for 10 is_200 "http://127.0.0.1:$port/" || die "no answer through the HAProxy sidecars ($port)"
done
if [ "${HOLD:-0}" = 1 ]; then  # keep the setup up for probing by hand; Ctrl-C ends it
  for p in "${proxies[@]}"; do echo "$p ${h1_url[$p]} ${h2_url[$p]}"; done
  echo "mesh http://127.0.0.1:$web_out/ (direct ${h1_url[direct]}); admin: hop $hop_admin," \
    "web $web_admin, app $app_admin; braid-cp $api; work dir $work"
  sleep infinity &
  wait $!
fi
procs[direct]=""
procs[haproxy]=$haproxy_pid
procs[braid]=$hop_pid
h1_procs() { [ "$1" = nghttpx ] && proc_tree "$nghttpx_h1_pid" || echo "${procs[$1]}"; }
h2_procs() { [ "$1" = nghttpx ] && proc_tree "$nghttpx_h2_pid" || echo "${procs[$1]}"; }

# --- 1 and 2: requests/s through each proxy, rounds going through the paths in turn ---------------
declare -A rps cpu_us err ticks requests l7 runs
# h2load_once H2LOAD ARGS…: one run against $run_url, with the CPU ticks of $run_pids before and
# after ("TICKS BEFORE AFTER").
h2load_once() {
  local before
  # shellcheck disable=SC2086
  before=$(cpu_ticks $run_pids)
  run_client h2load "$@" -D "$run_seconds" "$run_url"
  # shellcheck disable=SC2086
  echo "TICKS $before $(cpu_ticks $run_pids)"
}
# h2load_phase PHASE PROCS_FN URL_ARRAY H2LOAD ARGS…
h2load_phase() {
  local phase=$1 procs_fn=$2 round p out r before after done_n bad rq0
  local -n urls=$3
  shift 3
  for p in "${proxies[@]}"; do
    rps[$phase:$p]=0 err[$phase:$p]=0 ticks[$phase:$p]=0 requests[$phase:$p]=0
  done
  echo "== $phase: h2load $*, $rounds rounds of ${run_seconds}s, best ($SECONDS s)"
  rq0=$(counter "$hop_admin" braid_dp_listener_downstream_rq_2xx_total)
  for round in $(seq "$rounds"); do
    for p in "${proxies[@]}"; do
      run_pids=$($procs_fn "$p") run_url=${urls[$p]}
      quiet_run out h2load_once "$@" || die "h2load failed on the $p path: $out"
      before=$(echo "$out" | awk '/^TICKS/ {print $2}')
      after=$(echo "$out" | awk '/^TICKS/ {print $3}')
      # Answered with a 2xx per second (h2load's own req/s also counts failed requests).
      done_n=$(echo "$out" | awk '/^requests:/ {print $8}')
      r=$(echo "$out" | awk -v n="$done_n" '/^finished in/ {
        t = $3; sub(/s,$/, "", t); if (t ~ /m$/) {sub(/m$/, "", t); t /= 1000}
        printf "%.1f", (t > 0 ? n / t : 0)}')
      bad=$(echo "$out" | awk '/^requests:/ {print $10 + $12 + $14}')
      bad=$((bad + $(echo "$out" | awk '/^status codes:/ {print $5 + $7 + $9}')))
      [ "$bad" = 0 ] && [ "$done_n" -gt 0 ] || err[$phase:$p]=$((${err[$phase:$p]} + 1))
      rps[$phase:$p]=$(max "${rps[$phase:$p]}" "$r")
      runs[$phase:$p]="${runs[$phase:$p]:-} ${r%.*}"
      requests[$phase:$p]=$((${requests[$phase:$p]} + done_n))
      ticks[$phase:$p]=$((${ticks[$phase:$p]} + after - before))
      printf '  round %s %-8s %10s req/s  %s not 2xx or failed\n' "$round" "$p" "$r" "$bad"
    done
  done
  for p in "${proxies[@]}"; do  # proxy CPU time per request over all rounds (ticks are 10 ms)
    cpu_us[$phase:$p]=$(awk -v t="${ticks[$phase:$p]}" -v n="${requests[$phase:$p]}" \
      'BEGIN {if (n > 0) printf "%.1f", t * 1e4 / n; else print "-"}')
  done
  # Requests the hop's HTTP connection manager answered: all of braid's if it routed at L7.
  l7[$phase]=$(($(counter "$hop_admin" braid_dp_listener_downstream_rq_2xx_total) - rq0))
  echo "  braid-dp answered ${l7[$phase]} of ${requests[$phase:braid]} requests at L7"
}

h2load_phase http1 h1_procs h1_url --h1 -t1 -c"$h1_connections"
h2load_phase http2 h2_procs h2_url -t1 -c"$h2_connections" -m"$h2_streams"

if [ "${PROFILE:-0}" = 1 ]; then
  for p in braid haproxy; do
    echo "== profile: $p under h2load --h1 -c$h1_connections, perf record -e cpu-clock, 5 s"
    perf record -q -e cpu-clock -F 4999 -g -p "${procs[$p]}" -o "$work/$p.perf" \
      -- sleep 5 >/dev/null 2>&1 &
    perf_pid=$!
    run_client h2load --h1 -t1 -c"$h1_connections" -D 6 "${h1_url[$p]}" >/dev/null 2>&1
    wait "$perf_pid" || true
    perf report -i "$work/$p.perf" --stdio --no-children --sort dso 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -8 || true
    perf report -i "$work/$p.perf" --stdio --no-children --sort dso,sym 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -40 || true
  done
fi

# --- 3: latency of the HTTP mesh path at 1,000 req/s, plaintext then mTLS -------------------------
declare -A mesh_url lat
mesh_url[direct]=http://127.0.0.1:$app_port/
mesh_url[mesh]=http://127.0.0.1:$web_out/
paths=(direct haproxy mesh)
layouts=(split pods shared)
place() {  # place LAYOUT: both pairs of sidecars and nginx onto their CPUs (see the top)
  local caller_side=$proxy_cpu app_side=$proxy_cpu app=$client_cpu pid
  case $1 in
    pods) caller_side=$client_cpu app=$proxy_cpu ;;
    shared) caller_side=$client_cpu app_side=$client_cpu ;;
  esac
  for pid in "$web_dp_pid" "$hp_out_pid"; do taskset -a -p -c "$caller_side" "$pid" >/dev/null; done
  for pid in "$app_dp_pid" "$hp_in_pid"; do taskset -a -p -c "$app_side" "$pid" >/dev/null; done
  taskset -a -p -c "$app" "$nginx_pid" >/dev/null
}
realtime() { realtime_pids "$1" "$nginx_pid" "$app_dp_pid" "$web_dp_pid" "$hp_in_pid" "$hp_out_pid"; }
rt=(chrt -f 10)
if realtime on 2>/dev/null; then
  realtime off
  scheduling=SCHED_FIFO
else
  realtime off 2>/dev/null || true
  rt=()
  scheduling="normal scheduling (SCHED_FIFO refused: not root?)"
fi
latency_once() {  # one run against $run_url; samples in $work/try
  rm -f "$work/try"
  run_client "${rt[@]}" "$bin/braid-openloop" --url "$run_url" --rate "$rate" \
    --duration "${latency_seconds}s" --warmup 500ms --connections 8 --samples "$work/try" |
    grep '^RESULT'
}
latency_phase() {  # latency_phase MODE
  local mode=$1 layout round p out a b c rq0
  rq0=$(counter "$app_admin" braid_dp_listener_downstream_rq_2xx_total)
  [ ${#rt[@]} -eq 0 ] || realtime on
  for layout in "${layouts[@]}"; do
    place "$layout"
    echo "== $mode: latency ($layout, $scheduling), braid-openloop $rate/s, 8 connections," \
      "$rounds rounds of ${latency_seconds}s (0.5 s warm-up) ($SECONDS s)"
    for round in $(seq "$rounds"); do
      for p in "${paths[@]}"; do
        run_url=${mesh_url[$p]}
        quiet_run out latency_once || die "braid-openloop failed on the $p path ($mode): $out"
        cat "$work/try" >>"$work/lat.$mode.$layout.$p"
        [ "$(echo "$out" | field errors)" = 0 ] && [ "$(echo "$out" | field unfinished)" = 0 ] ||
          err[$mode:$p]=$((${err[$mode:$p]:-0} + 1))
        printf '  %-6s round %s %-6s %s\n' "$layout" "$round" "$p" "${out#RESULT }"
      done
    done
    for p in "${paths[@]}"; do
      read -r a b c <<<"$(percentiles "$work/lat.$mode.$layout.$p")"
      lat[$mode:$layout:$p:p50]=$a lat[$mode:$layout:$p:p99]=$b lat[$mode:$layout:$p:p999]=$c
    done
  done
  [ ${#rt[@]} -eq 0 ] || realtime off
  place split
  l7[$mode]=$(($(counter "$app_admin" braid_dp_listener_downstream_rq_2xx_total) - rq0))
  echo "  the inbound answered ${l7[$mode]} requests at L7"
}

mesh_url[haproxy]=http://127.0.0.1:$hp_out_plain/
latency_phase plaintext

echo "== switching the mesh to mTLS (builtin CA) ($SECONDS s)"
switch_mesh_to_mtls "${mesh_url[mesh]}"
echo "  both sidecars ready with certificates, traffic over mTLS, plaintext refused"

mesh_url[haproxy]=http://127.0.0.1:$hp_out_tls/
latency_phase mtls

# --- the tables -----------------------------------------------------------------------------------
delta() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.0f", a - b}'; }
echo
echo "bench/http $(date -u +%Y-%m-%d) on $(nproc) cores; load average before/after:" \
  "$load_before / $(cut -d' ' -f1-3 /proc/loadavg); runs kept with a compiler running: $noisy_runs"
echo "proxies on CPU $proxy_cpu; nginx, h2load, braid-openloop and braid-cp on CPU $client_cpu" \
  "(latency: also 'pods' and 'shared', see the top); braid-dp at $commit, binary of $built"
echo "$(haproxy -v | head -1 | cut -d' ' -f1-3), $(nghttpx --version | head -1)," \
  "$(nginx -v 2>&1 | cut -d' ' -f3)"
echo
echo "| protocol | load | path | req/s, best of $rounds (× direct) | all rounds |" \
  "proxy CPU µs/request | runs with errors |"
echo "|---|---|---|---|---|---|---|"
for phase in http1 http2; do
  if [ "$phase" = http1 ]; then load="h2load --h1 -c$h1_connections"
  else load="h2load -c$h2_connections -m$h2_streams"; fi
  for p in "${proxies[@]}"; do
    echo "| $phase | $load | $p | ${rps[$phase:$p]%.*} ($(ratio "${rps[$phase:$p]}" \
      "${rps[$phase:direct]}")) |${runs[$phase:$p]} | ${cpu_us[$phase:$p]} | ${err[$phase:$p]} |"
  done
done
echo
for phase in http1 http2; do
  echo "$phase: braid ÷ HAProxy req/s $(ratio "${rps[$phase:braid]}" "${rps[$phase:haproxy]}")," \
    "braid ÷ nghttpx $(ratio "${rps[$phase:braid]}" "${rps[$phase:nghttpx]}");" \
    "CPU per request HAProxy ÷ braid $(ratio "${cpu_us[$phase:haproxy]}" "${cpu_us[$phase:braid]}")," \
    "nghttpx ÷ braid $(ratio "${cpu_us[$phase:nghttpx]}" "${cpu_us[$phase:braid]}");" \
    "braid-dp answered ${l7[$phase]} of ${requests[$phase:braid]} at L7"
done
echo
echo "latency at $rate req/s from the intended send time, HTTP/1.1 mesh path, $scheduling (µs):"
echo "| mode | CPUs | direct p50 / p99 / p99.9 | HAProxy pair p50 / p99 / p99.9 |" \
  "braid p50 / p99 / p99.9 | added HAProxy p50 / p99 | added braid p50 / p99 | runs with errors |"
echo "|---|---|---|---|---|---|---|---|"
added() {  # added MODE LAYOUT PATH PERCENTILE: that path's percentile minus direct's
  delta "${lat[$1:$2:$3:$4]}" "${lat[$1:$2:direct:$4]}"
}
for m in plaintext mtls; do
  for layout in "${layouts[@]}"; do
    d=$m:$layout:direct h=$m:$layout:haproxy k=$m:$layout:mesh
    echo "| $m | $layout | ${lat[$d:p50]} / ${lat[$d:p99]} / ${lat[$d:p999]} |" \
      "${lat[$h:p50]} / ${lat[$h:p99]} / ${lat[$h:p999]} |" \
      "${lat[$k:p50]} / ${lat[$k:p99]} / ${lat[$k:p999]} |" \
      "$(added "$m" "$layout" haproxy p50) / $(added "$m" "$layout" haproxy p99) |" \
      "$(added "$m" "$layout" mesh p50) / $(added "$m" "$layout" mesh p99) |" \
      "$((${err[$m:direct]:-0} + ${err[$m:haproxy]:-0} + ${err[$m:mesh]:-0})) |"
  done
done
echo
echo "targets: HTTP/1.1 braid ≥ 1.0× HAProxy req/s: $(ratio "${rps[http1:braid]}" \
  "${rps[http1:haproxy]}")×; mTLS mesh path added p99 ≤ 200 µs at $rate/s (HAProxy pair in ()):"
for layout in "${layouts[@]}"; do
  echo "  $layout $(added mtls "$layout" mesh p99) µs ($(added mtls "$layout" haproxy p99) µs)"
done
