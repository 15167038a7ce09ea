#!/usr/bin/env bash
# braid-cp and braid-dp end to end on loopback (port 0 everywhere, ports.json, --admin-port-file):
# dataplane tokens (the CP's default --dp-auth token); traffic from an outbound through two
# sidecars to an app; endpoints following registrations; stats and clusters through the CP;
# the CP killed under load; a configuration the proxy must refuse; SIGTERM during a transfer.
#   BRAID_BIN: where the binaries are (default build/bin); run from the repository root.
set -euo pipefail

source tests/integration/lib/common.sh
printf 'type: Mesh\nname: default\n' | ctl apply -f - >/dev/null

start_app backend-1; backend1_app=$app_port
start_app web; web_app=$app_port
b1_in=$(free_port); web_in=$(free_port); web_out=$(free_port)
start_dp backend-1 backend "$backend1_app" "$b1_in" "" ""
start_dp web web "$web_app" "$web_in" backend "$web_out"
check "backend-1 sidecar ready" wait_ready "$backend_1_admin"
check "web sidecar ready" wait_ready "$web_admin"

# 1. Traffic flows: app → web's outbound → backend-1's inbound → backend-1's app.
check "outbound reaches backend-1 through two sidecars" \
  test "$(curl -s --max-time 5 "http://127.0.0.1:$web_out/")" = backend-1
ctl inspect dataplanes >"$tmp/inspect.txt"
check "inspect dataplanes lists both online" \
  test "$(grep -c Online "$tmp/inspect.txt")" -eq 2
overview=$(curl -s "$api/meshes/default/dataplanes/web/_overview")
acked=$(echo "$overview" | json_field 'd["dataplaneInsight"]["configVersionAcked"]')
dumped=$(curl -s "$web_admin/config_dump" | json_field 'd["version"]')
generated=$(curl -s "$api/meshes/default/dataplanes/web/_config" | json_field 'd["version"]')
check "the CP's acked version is the proxy's running version" test "$acked" = "$dumped"
check "_config shows the version the proxy runs" test "$generated" = "$dumped"
check "/stats/prometheus counts the outbound's connections" \
  grep -q 'braid_dp_listener_connections_total{listener="outbound:127.0.0.1:'"$web_out"'"} [1-9]' \
  <(curl -s "$web_admin/stats/prometheus")
check "/clusters lists backend-1's endpoint" \
  grep -q "backend::127.0.0.1:$b1_in" <(curl -s "$web_admin/clusters")
# The same text through the CP, which asks the proxy over the admin stream the proxy opened.
inspect_has() {  # inspect_has NAME TYPE PATTERN
  ctl inspect dataplane "$1" --type "$2" >"$tmp/inspect-$2.txt" 2>&1 && grep -q "$3" "$tmp/inspect-$2.txt"
}
check "braidctl inspect dataplane --type stats shows the proxy's counters" \
  wait_for 5 inspect_has web stats 'braid_dp_listener_connections_total{listener="outbound:127.0.0.1:'"$web_out"'"} [1-9]'
check "braidctl inspect dataplane --type clusters shows backend-1's endpoint" \
  wait_for 5 inspect_has web clusters "backend::127.0.0.1:$b1_in"
if ctl inspect dataplane nosuch --type stats >/dev/null 2>"$tmp/err"; then fail "stats of an unknown dataplane"; fi
check "--type stats of an unknown dataplane: not found" \
  grep -q 'Error: Not found: Dataplane "nosuch" in mesh "default" not found' "$tmp/err"
check "... 404 on the API" test "$(curl -s -o /dev/null -w '%{http_code}' \
  "$api/meshes/default/dataplanes/nosuch/_clusters")" = 404

# 2. A second instance gets traffic within 1 s of registering, and none after it leaves.
start_app backend-2; backend2_app=$app_port
b2_in=$(free_port)
start_dp backend-2 backend "$backend2_app" "$b2_in" "" ""
for _ in $(seq 200); do
  [ "$(curl -s "$api/meshes/default/dataplanes/backend-2/_overview" |
    json_field 'd.get("dataplaneInsight",{}).get("online",False)' 2>/dev/null)" = True ] && break
  sleep 0.01
done
registered=$(now_ms)
seen=""
for _ in $(seq 300); do
  if [ "$(curl -s --max-time 2 "http://127.0.0.1:$web_out/")" = backend-2 ]; then seen=$(now_ms); break; fi
done
check "backend-2 receives traffic after registering" test -n "$seen"
[ -n "$seen" ] && echo "   backend-2 first reached $((seen - registered)) ms after registering"
check "... within 1 s" test -n "$seen" -a $((${seen:-0} - registered)) -le 1000
kill -TERM "$backend_2_pid"; wait "$backend_2_pid" || true
sleep 0.3
hits=0
for _ in $(seq 30); do
  [ "$(curl -s --max-time 2 "http://127.0.0.1:$web_out/")" = backend-2 ] && hits=$((hits + 1))
done
check "no traffic reaches backend-2 after it left (got $hits)" test "$hits" -eq 0
check "backend-2 is shown offline" \
  test "$(curl -s "$api/meshes/default/dataplanes/backend-2/_overview" |
    json_field 'd["dataplaneInsight"]["online"]')" = False
check "inspect dataplanes shows backend-2 Offline" \
  grep -q "backend-2 .*Offline" <(ctl inspect dataplanes)
if ctl inspect dataplane backend-2 --type clusters >/dev/null 2>"$tmp/err"; then
  fail "clusters of a disconnected dataplane"
fi
check "--type clusters of a registered but disconnected dataplane: not connected" \
  grep -q "dataplane backend-2 is not connected" "$tmp/err"
check "... 503 on the API" test "$(curl -s -o /dev/null -w '%{http_code}' \
  "$api/meshes/default/dataplanes/backend-2/_stats")" = 503
check "web's /clusters marks backend-2's endpoint unhealthy" \
  grep -q "backend::127.0.0.1:$b2_in::health_flags::/failed_eds_health" <(curl -s "$web_admin/clusters")

# 3. The CP killed under load: zero failed connections; the proxies resync within 2 s of its return.
load_failures="$tmp/load.failures"
(
  f=0
  for _ in $(seq 400); do
    [ "$(curl -s --max-time 3 "http://127.0.0.1:$web_out/")" = backend-1 ] || f=$((f + 1))
    sleep 0.005
  done
  echo "$f" >"$load_failures"
) &
load_pid=$!
sleep 0.5
kill -9 "$cp_pid"; wait "$cp_pid" 2>/dev/null || true
sleep 1.5
check "the proxy reports the lost CP" \
  grep -q '^braid_dp_control_plane_connected 0' <(curl -s "$web_admin/stats/prometheus")
check "the proxy stays ready without its CP" wait_ready "$web_admin"
restart=$(now_ms)
start_cp "$xds_port"
resynced=""
for _ in $(seq 400); do
  online=$(curl -s "$api/meshes/default/dataplanes/web/_overview" |
    json_field 'd["dataplaneInsight"]["online"] and d["dataplaneInsight"]["configVersionAcked"] is not None' 2>/dev/null || true)
  if [ "$online" = True ]; then resynced=$(now_ms); break; fi
  sleep 0.01
done
wait "$load_pid"
check "zero failed connections while the CP was down (failures: $(cat "$load_failures"))" \
  test "$(cat "$load_failures")" -eq 0
check "the proxy resynced after the CP returned" test -n "$resynced"
[ -n "$resynced" ] && echo "   resynced $((resynced - restart)) ms after the CP restarted"
check "... within 2 s" test -n "$resynced" -a $((${resynced:-0} - restart)) -le 2000
check "the proxy's admin stream reconnected to the restarted CP" \
  wait_for 5 inspect_has web stats '^braid_dp_control_plane_connected 1'

# 4. A configuration the proxy must refuse: an outbound on a port something else holds. The NACK
# shows in `braidctl inspect dataplanes`, the old configuration keeps serving.
busy_port_file="$tmp/busy.port"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(600)' "$busy_port_file" &
pids+=($!)
wait_file "$busy_port_file"
busy=$(cat "$busy_port_file")
sed 's/{{ name }}/web/' "$tmp/web.yaml" >"$tmp/web-updated.yaml"
printf '  - port: %s\n    tags: {braid.io/service: backend}\n' "$busy" >>"$tmp/web-updated.yaml"
ctl apply -f "$tmp/web-updated.yaml" >/dev/null
rejected=""
for _ in $(seq 200); do
  ctl inspect dataplanes >"$tmp/inspect.txt"
  if grep -q "Address already in use" "$tmp/inspect.txt"; then rejected=yes; break; fi
  sleep 0.05
done
check "the NACK shows in braidctl inspect dataplanes" test -n "$rejected"
grep web "$tmp/inspect.txt" || true
check "traffic is unaffected after the NACK" \
  test "$(curl -s --max-time 5 "http://127.0.0.1:$web_out/")" = backend-1
check "the proxy still runs the previous version" \
  test "$(curl -s "$web_admin/config_dump" | json_field 'd["version"]')" = \
  "$(curl -s "$api/meshes/default/dataplanes/web/_overview" | json_field 'd["dataplaneInsight"]["configVersionAcked"]')"
check "the proxy counts the rejection" \
  grep -q '^braid_dp_config_rejections_total [1-9]' <(curl -s "$web_admin/stats/prometheus")

# 5. SIGTERM during a long transfer: the transfer completes within the drain time, exit 0.
start_app slow; slow_app=$app_port
slow_in=$(free_port); slow_out=$(free_port)
start_dp slow-client client "$slow_app" "$slow_in" slow-backend "$slow_out" --drain-time 10s
start_dp slow-backend slow-backend "$slow_app" "$(free_port)" "" ""
wait_ready "$slow_client_admin"
for _ in $(seq 100); do
  curl -s --max-time 1 "http://127.0.0.1:$slow_out/" | grep -q slow && break
  sleep 0.05
done
# 3 MB at 1 MB/s: about 3 s.
curl -s --max-time 20 -o "$tmp/transfer.bin" -w '%{size_download}' \
  "http://127.0.0.1:$slow_out/bytes?n=3000000&rate=1000000" >"$tmp/transfer.size" &
transfer_pid=$!
sleep 1
check "proxied connections have TCP keepalive" \
  grep -q "timer:(keepalive" <(ss -tnoH state established "( sport = :$slow_out )")
term_at=$(now_ms)
kill -TERM "$slow_client_pid"
sleep 1
check "new connections are refused while draining" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$slow_out/")" = 000
wait "$transfer_pid" || true
transfer_done=$(now_ms)
check "the transfer completed (got $(cat "$tmp/transfer.size") bytes)" \
  test "$(cat "$tmp/transfer.size")" = 3000000
status=0
wait "$slow_client_pid" || status=$?
exited=$(now_ms)
check "braid-dp exited 0 after draining" test "$status" -eq 0
check "... within the drain time ($((exited - term_at)) ms)" test $((exited - term_at)) -le 10500
check "... as soon as the last connection closed ($((exited - transfer_done)) ms after)" \
  test $((exited - transfer_done)) -le 1500
check "the draining proxy is offline at the CP" \
  test "$(curl -s "$api/meshes/default/dataplanes/slow-client/_overview" |
    json_field 'd["dataplaneInsight"]["online"]')" = False

# 6. Tokens: a token for another dataplane, or none, is refused; the proxy says why.
token_of=web start_dp intruder intruder "$web_app" "$(free_port)" "" ""
sleep 1
check "a token for web does not register 'intruder'" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$api/meshes/default/dataplanes/intruder")" = 404
check "the intruder's sidecar logs the refusal" \
  grep -q "the token is for dataplane 'web'" "$tmp/intruder.log"
check "the intruder's admin stream is refused too" \
  grep -q "refused this proxy's admin stream.*the token is for dataplane 'web'" "$tmp/intruder.log"
check "the intruder never becomes ready" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$intruder_admin/ready")" = 503
printf 'not-a-token\n' >"$tmp/forged.token"
token_of=forged start_dp forger forger "$web_app" "$(free_port)" "" ""
sleep 1
check "a forged token is refused" grep -q "invalid dataplane token" "$tmp/forger.log"
check "the token endpoint refuses remote callers without the admin token" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Host: cp.example' \
    -d '{"mesh":"default","name":"x"}' "$api/tokens/dataplane")" = 401

# Revocation: a revoked token no longer registers its dataplane.
jwt_claim() { python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; p+="="*(-len(p)%4); print(json.loads(base64.urlsafe_b64decode(p))[sys.argv[2]])' "$1" "$2"; }
jwt_kid() { python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[0]; p+="="*(-len(p)%4); print(json.loads(base64.urlsafe_b64decode(p))["kid"])' "$1"; }
ctl generate dataplane-token --mesh default --name late --valid-for 1h >"$tmp/late.token"
check "braidctl revokes a token from its file" \
  grep -q "revoked dataplane token $(jwt_claim "$(cat "$tmp/late.token")" jti)" \
  <(ctl revoke dataplane-token --mesh default --token-file "$tmp/late.token")
printf 'type: Dataplane\nmesh: default\nname: late\nnetworking:\n  address: 127.0.0.1\n  inbound:\n  - port: %s\n    servicePort: %s\n    tags: {braid.io/service: late}\n' \
  "$(free_port)" "$web_app" >"$tmp/late.yaml"
"$bin/braid-dp" run --cp-address "https://127.0.0.1:$xds_port" --ca-cert-file "$tmp/data/cp-ca.pem" \
  --dataplane-file "$tmp/late.yaml" --dataplane-token-file "$tmp/late.token" \
  --admin-address 127.0.0.1:0 >"$tmp/late.log" 2>&1 &
pids+=($!)
sleep 1
check "a revoked token is refused" grep -q "revoked" "$tmp/late.log"

# Signing-key rotation: new tokens carry the new key; once the old key is removed, its tokens stop
# working while the new ones keep registering.
old_kid=$(jwt_kid "$(cat "$tmp/web.token")")
new_kid=$(ctl rotate dataplane-token-signing-key --mesh default | sed -E 's/new signing key ([^ ]+) .*/\1/')
ctl generate dataplane-token --mesh default --name rotated --valid-for 1h >"$tmp/rotated.token"
check "tokens issued after a rotation use the new key ($new_kid)" \
  test "$(jwt_kid "$(cat "$tmp/rotated.token")")" = "$new_kid" -a "$new_kid" != "$old_kid"
check "the old key can be retired" ctl retire dataplane-token-signing-key --mesh default --key "$old_kid"
web_offline() {
  [ "$(curl -s "$api/meshes/default/dataplanes/web/_overview" |
    json_field 'd["dataplaneInsight"]["online"]')" = False ]
}
for _ in $(seq 50); do web_offline && break; sleep 0.1; done
check "a connected proxy whose token's key was retired is disconnected at once" web_offline
check "... and says why" grep -q "invalid dataplane token" "$tmp/web.log"
if ctl inspect dataplane web --type stats >/dev/null 2>"$tmp/err"; then
  fail "stats of a proxy whose token's key was retired"
fi
check "... and its stats are no longer served" grep -q "dataplane web is not connected" "$tmp/err"
start_dp rotated rotated "$web_app" "$(free_port)" "" ""
check "a token of the new key registers its dataplane" wait_ready "$rotated_admin"
token_of=web start_dp web-again web "$web_app" "$(free_port)" "" ""
sleep 1
check "a token of the removed key is refused" grep -q "invalid dataplane token" "$tmp/web-again.log"

# 7. Bad flags and files are refused with every problem named.
if "$bin/braid-dp" run --cp-address http://x --admin-address 0.0.0.0:9901 \
  --dataplane-file /nonexistent >"$tmp/err" 2>&1; then
  fail "invalid flags accepted"
fi
check "plain http CP address refused" grep -q "must be https://HOST:PORT" "$tmp/err"
check "non-loopback admin refused" grep -q "is not a loopback address" "$tmp/err"
check "missing CA named" grep -q -- "--ca-cert-file: required" "$tmp/err"
printf 'type: Dataplane\nmesh: default\nname: x\nnetworking:\n  inbound:\n  - port: 0\n' >"$tmp/bad.yaml"
if "$bin/braid-dp" run --cp-address "https://127.0.0.1:$xds_port" --insecure-skip-verify \
  --dataplane-file "$tmp/bad.yaml" >"$tmp/err" 2>&1; then
  fail "invalid dataplane file accepted"
fi
check "invalid dataplane file: every field named" \
  grep -q "networking.address" "$tmp/err"

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all dataplane checks passed"
