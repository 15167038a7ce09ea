#!/usr/bin/env bash
# Mutual TLS and MeshTrafficPermission end to end (issue 4, CONTRACT §6): real braid-cp and
# braid-dp processes, real openssl s_client and curl as the outsiders. A provided CA (made here
# with openssl, so the test can also mint bad certificates under it), then a builtin one.
#   BRAID_BIN: where the binaries are (default build/bin); run from the repository root.
set -euo pipefail

source tests/integration/lib/common.sh

# --- a test PKI: the mesh's provided CA, a foreign CA, and leaf certificates -------------------
pki=$tmp/pki
mkdir -p "$pki/db"
touch "$pki/db/index.txt"
echo 1000 >"$pki/db/serial"
make_ca() {  # make_ca NAME
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1-key.pem"
  openssl req -x509 -new -key "$pki/$1-key.pem" -subj "/CN=$1" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$pki/$1.pem" 2>/dev/null
}
cat >"$pki/ca.cnf" <<'CNF'
[ca]
default_ca = test
[test]
dir = .
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[svid]
subjectAltName = URI:spiffe://default/web
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
[two_uris]
subjectAltName = URI:spiffe://default/web,URI:spiffe://default/admin
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
[ca_leaf]
subjectAltName = URI:spiffe://default/web
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
[other_mesh]
subjectAltName = URI:spiffe://other/web
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
CNF
# make_leaf NAME CA EXTENSIONS [START END]: a P-256 leaf signed by CA
make_leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1-key.pem" \
    -subj "/CN=$1" -out "$pki/$1.csr" 2>/dev/null
  (cd "$pki" && openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2-key.pem" \
    -in "$1.csr" -extensions "$3" -startdate "${4:-$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)}" \
    -enddate "${5:-$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)}" -out "$1.pem" 2>/dev/null)
}
make_ca mesh-ca
make_ca foreign-ca
make_leaf good mesh-ca svid
make_leaf expired mesh-ca svid 20250101000000Z 20250102000000Z
make_leaf two-uris mesh-ca two_uris
make_leaf ca-leaf mesh-ca ca_leaf
make_leaf foreign foreign-ca svid
make_leaf other-mesh mesh-ca other_mesh

# --- the mesh: mTLS with the provided CA, one permission ----------------------------------------
mesh_yaml() {  # mesh_yaml ENABLED MODE BACKENDS… (each "provided" or "builtin:NAME")
  local enabled=$1 mode=$2
  shift 2
  printf 'type: Mesh\nname: default\nmtls:\n  enabledBackend: %s\n  backends:\n' "$enabled"
  for b in "$@"; do
    case $b in
      provided)
        printf '  - name: ca-1\n    type: provided\n    mode: %s\n' "$mode"
        printf '    dpCert: {rotation: {expiration: 40s}}\n'
        printf '    conf:\n      cert: {file: %s}\n      key: {file: %s}\n' \
          "$pki/mesh-ca.pem" "$pki/mesh-ca-key.pem" ;;
      builtin:*)
        printf '  - name: %s\n    type: builtin\n    mode: %s\n' "${b#builtin:}" "$mode"
        printf '    dpCert: {rotation: {expiration: 40s}}\n' ;;
    esac
  done
}
mesh_yaml ca-1 STRICT provided | ctl apply -f - >/dev/null
ctl apply -f - >/dev/null <<'YAML'
type: MeshTrafficPermission
name: web-to-backend
mesh: default
spec:
  targetRef: {kind: MeshService, name: backend}
  from:
  - targetRef: {kind: MeshSubset, tags: {braid.io/service: web}}
    default: {action: Allow}
YAML

start_app backend-1; backend_app=$app_port
start_app db-1; db_app=$app_port
start_app web; web_app=$app_port
start_app intruder; intruder_app=$app_port
b_in=$(free_port); db_in=$(free_port); web_in=$(free_port); i_in=$(free_port)
web_to_backend=$(free_port); web_to_db=$(free_port); intruder_to_backend=$(free_port)
dp_protocol=http start_dp backend-1 backend "$backend_app" "$b_in" "" ""
start_dp db-1 db "$db_app" "$db_in" "" ""
dp_more_outbounds="  - port: $web_to_db\n    tags: {braid.io/service: db}\n" \
  start_dp web web "$web_app" "$web_in" backend "$web_to_backend"
start_dp intruder intruder "$intruder_app" "$i_in" backend "$intruder_to_backend"
for dp in backend_1 db_1 web intruder; do
  admin_var=${dp}_admin
  check "$dp ready (configuration and certificate in place)" wait_ready "${!admin_var}"
done

# 1. Permissions: web is allowed to backend; intruder gets 403 over HTTP; db (TCP, no permission
# at all) closes the connection before a byte reaches its app.
check "web reaches backend over mTLS" \
  test "$(curl -s --max-time 5 "http://127.0.0.1:$web_to_backend/")" = backend-1
denied=$(curl -s --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$intruder_to_backend/" || true)
check "a denied caller gets 403 'RBAC: access denied' (got '$denied')" \
  test "$denied" = "RBAC: access denied 403"
db_out=$(curl -s --max-time 5 "http://127.0.0.1:$web_to_db/" 2>&1; echo "exit=$?")
check "TCP to a service no permission allows is closed (got '$db_out')" \
  grep -q 'exit=\(52\|56\)' <<<"$db_out"
db_stats=$(curl -s "$db_1_admin/stats/prometheus")
check "db's sidecar counted the denial" grep -q 'rbac_denied.*inbound.* [1-9]' <<<"$db_stats"
check "no connection reached db's app" \
  grep -q "braid_dp_cluster_upstream_connections_total{cluster=\"localhost:$db_app\"} 0" <<<"$db_stats"

# A token bound to web cannot register a Dataplane that serves backend (nor get its certificate).
ctl generate dataplane-token --mesh default --name evil --tag braid.io/service=web --valid-for 1h \
  >"$tmp/evil-web.token"
token_of=evil-web start_dp evil backend "$backend_app" "$(free_port)" "" ""
refused() { grep -q "the token does not allow this dataplane: inbound\[0\] has braid.io/service=backend" "$tmp/evil.log"; }
check "a token bound to web cannot register a backend inbound" wait_for 5 refused
check "... so it never gets a certificate" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$evil_admin/ready")" = 503

# 2. The inbound is STRICT: plaintext is refused; the server certificate is the service's SVID.
plain=$(curl -s --max-time 5 "http://127.0.0.1:$b_in/" 2>&1 || true)
check "plaintext to a STRICT inbound is refused (got '$plain')" test "$plain" != backend-1
server_cert() {  # the certificate backend's inbound presents (no client certificate offered)
  (openssl s_client -connect "127.0.0.1:$b_in" </dev/null 2>/dev/null || true) |
    sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p'
}
sans=$(server_cert | openssl x509 -noout -ext subjectAltName | tail -n +2 | tr -d ' ')
check "the inbound presents exactly URI:spiffe://default/backend (got '$sans')" \
  test "$sans" = "URI:spiffe://default/backend"

# 3. Client certificates, presented by curl straight to backend's inbound.
as_client() {  # as_client NAME: the HTTP status backend's inbound answers with NAME's certificate
  curl -s -k --max-time 5 -o /dev/null -w '%{http_code}' --cert "$pki/$1.pem" \
    --key "$pki/$1-key.pem" "https://127.0.0.1:$b_in/" || true
}
check "a good client certificate for web is let in" test "$(as_client good)" = 200
check "a certificate from another CA is refused" test "$(as_client foreign)" = 000
check "an expired certificate is refused" test "$(as_client expired)" = 000
check "a certificate with two URI SANs is refused" test "$(as_client two-uris)" = 000
check "a CA certificate is refused as a client" test "$(as_client ca-leaf)" = 000
check "an identity from another trust domain is refused" test "$(as_client other-mesh)" = 000

# 4. Certificates rotate (40 s life: renewed every 20-32 s) for two minutes under load.
overview() { curl -s "$api/meshes/default/dataplanes/$1/_overview"; }
regenerations() { overview "$1" | json_field 'd["dataplaneInsight"]["mTLS"]["certificateRegenerations"]'; }
before_web=$(regenerations web); before_backend=$(regenerations backend-1)
rm -f "$tmp/stop"
python3 tests/support/load_client.py "http://127.0.0.1:$web_to_backend/" "$tmp/stop" \
  "$tmp/rotation.json" 2 backend-1 &
load=$!
sleep "${BRAID_ROTATION_SECONDS:-120}"
touch "$tmp/stop"; wait "$load"
after_web=$(regenerations web); after_backend=$(regenerations backend-1)
echo "   rotation: $(cat "$tmp/rotation.json"); web $before_web→$after_web, backend-1 $before_backend→$after_backend certificates"
check "zero failed requests while certificates rotate" \
  test "$(json_field 'd["failed"]' <"$tmp/rotation.json")" -eq 0
check "requests flowed during rotation" test "$(json_field 'd["ok"]' <"$tmp/rotation.json")" -gt 100
check "web's certificate rotated at least 3 times" test $((after_web - before_web)) -ge 3
check "backend-1's certificate rotated at least 3 times" test $((after_backend - before_backend)) -ge 3

# 5. CA rotation through a second backend under load: add a builtin ca-2 (every proxy trusts both
# roots), switch to it (proxies renew from ca-2), then remove ca-1.
roots_of() { curl -s "$1/config_dump" | json_field 'len(d["config"]["mtls"]["trusted_roots_pem"])'; }
all_roots() { for a in "$backend_1_admin" "$db_1_admin" "$web_admin" "$intruder_admin"; do [ "$(roots_of "$a")" = "$1" ] || return 1; done; }
issued_by() { overview "$1" | json_field 'd["dataplaneInsight"]["mTLS"]["issuedBackend"]'; }
all_issued_by() { for d in backend-1 db-1 web intruder; do [ "$(issued_by "$d")" = "$1" ] || return 1; done; }
rm -f "$tmp/stop"
python3 tests/support/load_client.py "http://127.0.0.1:$web_to_backend/" "$tmp/stop" \
  "$tmp/ca-rotation.json" 2 backend-1 &
load=$!
sleep 1
mesh_yaml ca-1 STRICT provided builtin:ca-2 | ctl apply -f - >/dev/null
check "every proxy trusts both roots" wait_for 10 all_roots 2
mesh_yaml ca-2 STRICT provided builtin:ca-2 | ctl apply -f - >/dev/null
check "every proxy renewed its certificate from ca-2" wait_for 15 all_issued_by ca-2
mesh_yaml ca-2 STRICT builtin:ca-2 | ctl apply -f - >/dev/null
check "every proxy trusts only ca-2" wait_for 10 all_roots 1
sleep 2
touch "$tmp/stop"; wait "$load"
echo "   CA rotation: $(cat "$tmp/ca-rotation.json")"
check "zero failed requests during the CA rotation" \
  test "$(json_field 'd["failed"]' <"$tmp/ca-rotation.json")" -eq 0
issuer=$(server_cert | openssl x509 -noout -issuer)
check "backend's certificate now comes from ca-2 ($issuer)" grep -q "ca-2" <<<"$issuer"
check "the old CA's client certificates are refused now" test "$(as_client good)" = 000
check "traffic still flows" test "$(curl -s --max-time 5 "http://127.0.0.1:$web_to_backend/")" = backend-1

# 6. PERMISSIVE with a mesh-wide allow: plaintext is accepted next to mTLS.
apply_allow_all
mesh_yaml ca-2 PERMISSIVE builtin:ca-2 | ctl apply -f - >/dev/null
plain_ok() { [ "$(curl -s --max-time 2 "http://127.0.0.1:$b_in/")" = backend-1 ]; }
check "PERMISSIVE accepts plaintext" wait_for 10 plain_ok
check "... and mTLS" test "$(curl -s --max-time 5 "http://127.0.0.1:$web_to_backend/")" = backend-1
check "the intruder is allowed by the mesh-wide permission now" \
  test "$(curl -s --max-time 5 "http://127.0.0.1:$intruder_to_backend/")" = backend-1

# 7. The private key never leaves the proxy: not in the config dump, not in any log.
check "no private key in the config dump" \
  bash -c "! curl -s '$web_admin/config_dump' | grep -q 'PRIVATE KEY'"
check "no private key in any log" bash -c "! grep -l 'PRIVATE KEY' '$tmp'/*.log"

if [ "$failed" -ne 0 ]; then
  echo "$failed check(s) failed" >&2
  exit 1
fi
echo "all mTLS checks passed"
