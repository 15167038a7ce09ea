# Shell helpers shared by the benchmarks (sourced; needs $work for die's logs and $bench for its
# messages).

die() {
  echo "bench/$bench: $*" >&2
  for f in "$work"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
free_ports() {  # free_ports N: N distinct free loopback ports
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
cpu_ticks() {  # cpu_ticks PID…: user+system clock ticks of the processes, all threads
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$total"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }  # field NAME < "RESULT a=1 b=2"
max() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }
percentiles() {  # percentiles FILE → "p50 p99 p999" (nearest rank)
  sort -n "$1" | awk '{v[NR] = $1}
    function at(p,  r) {r = int(p * NR / 100); if (r < p * NR / 100) r++; return v[r < 1 ? 1 : r]}
    END {print at(50), at(99), at(99.9)}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
run_client() { taskset -c "$client_cpu" "$@"; }
realtime_pids() {  # realtime_pids on|off PID…: SCHED_FIFO (priority 10) or back to normal
  local mode=$1 pid
  shift
  for pid in "$@"; do
    if [ "$mode" = on ]; then chrt -f -a -p 10 "$pid"; else chrt -o -a -p 0 "$pid"; fi
  done
}

# start_dp NAME YAML_FILE: a braid-dp on $proxy_cpu (one worker) registering YAML_FILE with the CP
# at $xds_port; its pid in dp_pid, admin URL in dp_admin, once it answers /ready.
start_dp() {
  taskset -c "$proxy_cpu" "$bin/braid-dp" run --cp-address "https://127.0.0.1:$xds_port" \
    --ca-cert-file "$work/cp/cp-ca.pem" --dataplane-file "$2" --admin-address 127.0.0.1:0 \
    --admin-port-file "$work/$1.admin-port" --concurrency 1 --log-level warn \
    >"$work/$1.log" 2>&1 &
  dp_pid=$!
  pids+=("$dp_pid")
  wait_file "$work/$1.admin-port" || die "braid-dp $1 did not start"
  dp_admin=http://127.0.0.1:$(cat "$work/$1.admin-port")
  local _
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$dp_admin/ready")" = 200 ] && return 0
    sleep 0.05
  done
  die "braid-dp $1 did not become ready"
}
# The mesh path's two sidecars: app (inbound $app_in → the app on $app_port) and web (outbound
# $web_out → app), both inbounds of protocol $mesh_protocol (default tcp). Sets app_dp_pid,
# app_admin, web_dp_pid, web_admin.
start_mesh_path() {
  printf '%s\n' "type: Dataplane" "mesh: default" "name: app" "networking:" \
    "  address: 127.0.0.1" "  inbound:" "  - port: $app_in" "    servicePort: $app_port" \
    "    tags: {braid.io/service: app, braid.io/protocol: ${mesh_protocol:-tcp}}" >"$work/app.yaml"
  printf '%s\n' "type: Dataplane" "mesh: default" "name: web" "networking:" \
    "  address: 127.0.0.1" "  inbound:" "  - port: $web_in" "    servicePort: $app_port" \
    "    tags: {braid.io/service: web, braid.io/protocol: ${mesh_protocol:-tcp}}" "  outbound:" \
    "  - port: $web_out" "    tags: {braid.io/service: app}" >"$work/web.yaml"
  start_dp app "$work/app.yaml"
  app_dp_pid=$dp_pid app_admin=$dp_admin
  start_dp web "$work/web.yaml"
  web_dp_pid=$dp_pid web_admin=$dp_admin
}

# --- shared by the scripts that measure through sidecars ------------------------------------------
status() { curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$@" || true; }
wait_for() {  # wait_for SECONDS COMMAND…: polls every 0.05 s
  local deadline=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -le "$deadline" ]; do "$@" && return 0; sleep 0.05; done
  return 1
}
is_200() { [ "$(status "$@")" = 200 ]; }
counter() {  # counter ADMIN_URL METRIC: the sum of a Prometheus counter over its labels
  curl -s "$1/stats/prometheus" |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $NF} END {print s + 0}'
}
has_mtls() {  # has_mtls ADMIN_URL: the mesh's roots configured, and ready (certificate in place)
  curl -s "$1/config_dump" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["config"].get("mtls", {}).get("trusted_roots_pem") else 1)' 2>/dev/null &&
    is_200 "$1/ready"
}
# switch_mesh_to_mtls MESH_URL: an allow-all permission, then the Mesh with a builtin CA; waits for
# start_mesh_path's two sidecars ($app_admin, $web_admin) to have their certificates, and checks
# that MESH_URL answers over mTLS (a new handshake at the inbound $app_in) and plaintext is refused.
switch_mesh_to_mtls() {
  ctl apply -f - >/dev/null 2>"$work/ctl.log" <<'YAML'
type: MeshTrafficPermission
name: allow-all
mesh: default
spec:
  targetRef: {kind: Mesh}
  from:
  - targetRef: {kind: Mesh}
    default: {action: Allow}
YAML
  ctl apply -f - >/dev/null <<'YAML'
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
  - name: ca-1
    type: builtin
YAML
  wait_for 30 has_mtls "$app_admin" || die "app's sidecar did not switch to mTLS"
  wait_for 30 has_mtls "$web_admin" || die "web's sidecar did not switch to mTLS"
  local hs
  hs=$(counter "$app_admin" braid_dp_listener_ssl_handshakes_total)
  wait_for 30 is_200 "$1" || die "no answer on the mesh path in mTLS"
  [ "$(counter "$app_admin" braid_dp_listener_ssl_handshakes_total)" -gt "$hs" ] ||
    die "a request through the mesh made no TLS handshake at the inbound"
  [ "$(status "http://127.0.0.1:$app_in/")" != 200 ] || die "the inbound still accepts plaintext"
}

# start_nginx HTTP_EXTRA SERVERS: the backend the benches measure against: nginx with one
# worker, in the foreground, everything under $work/nginx, keep-alive connections that never
# end; HTTP_EXTRA (directives of the http block) and SERVERS (its server blocks) are the
# script's own. Runs on $client_cpu; sets nginx_pid.
start_nginx() {
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
$1
$2
}
EOF
  taskset -c "$client_cpu" nginx -e "$work/nginx/error.log" -p "$work/nginx" \
    -c "$work/nginx/nginx.conf" >"$work/nginx.log" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
}
