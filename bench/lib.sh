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
