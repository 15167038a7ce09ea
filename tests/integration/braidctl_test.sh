#!/usr/bin/env bash
# braidctl against a real braid-cp on loopback (port 0, SQLite in a temp dir): applies every
# CONTRACT §4 example, reads each back in every output format, re-applies `get -o yaml` output as a
# no-op, deletes, refuses invalid files with every field named, and reports an unreachable CP.
#   BRAID_BIN: where braid-cp and braidctl are (default build/bin); run from the repository root.
set -euo pipefail

bin=${BRAID_BIN:-build/bin}
cp_bin=$bin/braid-cp
ctl_bin=$bin/braidctl
for b in "$cp_bin" "$ctl_bin"; do
  [ -x "$b" ] || { echo "missing $b: build it first (./scripts/build)" >&2; exit 1; }
done

tmp=$(mktemp -d)
cp_pid=""
cleanup() {
  if [ -n "$cp_pid" ]; then
    kill "$cp_pid" 2>/dev/null || true
    wait "$cp_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# A config of its own: never read or write the user's ~/.braidctl.
export HOME=$tmp/home
mkdir -p "$HOME"

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}
# check NAME COMMAND...: the command must succeed.
check() {
  local name=$1
  shift
  if "$@"; then pass; else fail "$name"; fi
}

"$cp_bin" run --store "sqlite:$tmp/db" --data-dir "$tmp" --api-address 127.0.0.1:0 \
  --xds-address 127.0.0.1:0 --kds-address 127.0.0.1:0 --dp-auth none >"$tmp/cp.log" 2>&1 &
cp_pid=$!

port=""
for _ in $(seq 1 100); do
  if [ -s "$tmp/ports.json" ]; then
    port=$(sed -n 's/.*"api":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$tmp/ports.json")
    [ -n "$port" ] && break
  fi
  kill -0 "$cp_pid" 2>/dev/null || { cat "$tmp/cp.log" >&2; echo "braid-cp exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/cp.log" >&2; echo "no API port in $tmp/ports.json" >&2; exit 1; }
api=http://127.0.0.1:$port
ctl() { "$ctl_bin" --api "$api" "$@"; }
for _ in $(seq 1 50); do
  ctl get meshes >/dev/null 2>&1 && break
  sleep 0.1
done

examples=tests/golden/cli/contract-examples.yaml
# type plural singular name mesh ("-" for global types), one line per CONTRACT §4 example.
resources="Mesh meshes mesh default -
Dataplane dataplanes dataplane backend-1 default
MeshTrafficPermission meshtrafficpermissions meshtrafficpermission web-to-backend default
MeshHTTPRoute meshhttproutes meshhttproute backend-split default
ExternalService external-services external-service httpbin default
ZoneIngress zoneingresses zoneingress ingress-1 -"

describe() {  # TYPE NAME MESH -> the phrase braidctl prints
  if [ "$3" = "-" ]; then echo "$1 \"$2\""; else echo "$1 \"$2\" in mesh \"$3\""; fi
}
mesh_flag() { if [ "$1" != "-" ]; then echo "-m $1"; fi; }
version_of() {  # SINGULAR NAME MESH -> the stored version
  # shellcheck disable=SC2046
  ctl get "$1" "$2" $(mesh_flag "$3") -o json | sed -n 's/^  "version": \([0-9]*\),*$/\1/p'
}

# --- dry run, then apply: every example accepted as written ---------------------------------------
expected_created=""
expected_valid=""
expected_unchanged=""
while read -r type plural singular name mesh; do
  expected_created+="created $(describe "$type" "$name" "$mesh")"$'\n'
  expected_valid+="valid $(describe "$type" "$name" "$mesh")"$'\n'
  expected_unchanged+="unchanged $(describe "$type" "$name" "$mesh")"$'\n'
done <<<"$resources"

out=$(ctl apply --dry-run -f "$examples")
check "apply --dry-run prints valid lines" [ "$out"$'\n' = "$expected_valid" ]
check "dry run writes nothing" [ "$(ctl get meshes -o yaml)" = "" ]

out=$(ctl apply -f "$examples")
check "apply creates every example" [ "$out"$'\n' = "$expected_created" ]
out=$(ctl apply -f - <"$examples")
check "re-applying the same file changes nothing" [ "$out"$'\n' = "$expected_unchanged" ]
err=$(ctl apply -f "$examples" 2>&1 >/dev/null)
check "no warning for a permission in a mesh with mTLS" [ -z "$err" ]
err=$(printf 'type: Mesh\nname: plain\n---\ntype: MeshTrafficPermission\nname: p\nmesh: plain\nspec:\n  from:\n  - targetRef: {kind: Mesh}\n    default: {action: Deny}\n' |
  ctl apply -f - 2>&1 >/dev/null)
check "a permission in a mesh without mTLS is applied with a warning" \
  [ "$err" = "Warning: mesh plain has no mTLS: MeshTrafficPermission p is not enforced until mtls.enabledBackend is set" ]
err=$(printf 'type: MeshRateLimit\nname: rl\nmesh: plain\nspec:\n  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\n  from:\n  - targetRef: {kind: Mesh}\n    default:\n      local:\n        tcp: {connectionRate: {num: 5, interval: 10s}}\n' |
  ctl apply -f - 2>&1 >/dev/null)
check "a policy braid stores but does not apply yet is applied with a warning" \
  [ "$err" = "Warning: MeshRateLimit rl is stored but not applied to traffic by this version of braid (docs/policies.md)" ]
ctl delete meshratelimit rl -m plain >/dev/null
ctl delete mesh plain >/dev/null

# --- get each resource back in every format -------------------------------------------------------
while read -r type plural singular name mesh; do
  # shellcheck disable=SC2046
  table=$(ctl get "$singular" "$name" $(mesh_flag "$mesh"))
  check "get $singular $name: table header" [ "$(echo "$table" | head -1 | cut -c1-4)" = \
    "$([ "$mesh" = "-" ] && echo NAME || echo MESH)" ]
  check "get $singular $name: table row" grep -qE -- "(^| )$name( |\$)" <<<"$table"
  check "get $singular $name: no trailing spaces" bash -c '! grep -q " $" <<<"$1"' _ "$table"

  # shellcheck disable=SC2046
  json=$(ctl get "$singular" "$name" $(mesh_flag "$mesh") -o json)
  check "get $singular $name -o json: type" grep -q "^  \"type\": \"$type\",\$" <<<"$json"
  check "get $singular $name -o json: name" grep -q "^  \"name\": \"$name\",\$" <<<"$json"
  check "get $singular $name -o json: version" grep -q '^  "version": [0-9]' <<<"$json"

  # shellcheck disable=SC2046
  yaml=$(ctl get "$singular" "$name" $(mesh_flag "$mesh") -o yaml)
  check "get $singular $name -o yaml: name" grep -q "^name: $name\$" <<<"$yaml"
  check "get $singular $name -o yaml: no store version" bash -c '! grep -q "^version:" <<<"$1"' _ "$yaml"
  check "get $singular $name -o yaml is valid" \
    bash -c '"$1" apply --dry-run -f - <<<"$2" >/dev/null' _ "$ctl_bin" "$yaml"

  # shellcheck disable=SC2046
  list=$(ctl get "$plural" $(mesh_flag "$mesh"))
  check "get $plural lists $name" grep -qE -- "(^| )$name( |\$)" <<<"$list"
  # shellcheck disable=SC2046
  check "get $plural -o json" grep -q "\"name\": \"$name\"" <<<"$(ctl get "$plural" $(mesh_flag "$mesh") -o json)"
  # shellcheck disable=SC2046
  check "get $plural -o yaml" grep -q "^name: $name\$" <<<"$(ctl get "$plural" $(mesh_flag "$mesh") -o yaml)"
done <<<"$resources"

out=$(ctl get meshtrafficpermissions)
check "policy table shows the targetRef" grep -q "MeshService/backend" <<<"$out"
out=$(ctl get dataplanes)
check "dataplane table shows tags" grep -q "braid.io/service=backend" <<<"$out"

# --- get -o yaml | apply: a no-op that keeps every version ----------------------------------------
versions_before=""
while read -r type plural singular name mesh; do
  versions_before+="$(version_of "$singular" "$name" "$mesh") "
done <<<"$resources"
for plural in meshes zoneingresses; do
  out=$(ctl get "$plural" -o yaml | ctl apply -f -)
  check "get $plural -o yaml | apply is unchanged" bash -c '! grep -qv "^unchanged " <<<"$1"' _ "$out"
done
for plural in dataplanes meshtrafficpermissions meshhttproutes external-services; do
  out=$(ctl get "$plural" -m default -o yaml | ctl apply -f -)
  check "get $plural -o yaml | apply is unchanged" bash -c '! grep -qv "^unchanged " <<<"$1"' _ "$out"
done
versions_after=""
while read -r type plural singular name mesh; do
  versions_after+="$(version_of "$singular" "$name" "$mesh") "
done <<<"$resources"
check "versions unchanged by re-applying yaml" [ "$versions_before" = "$versions_after" ]

# --- updates and the version precondition ---------------------------------------------------------
# `get -o json` carries the store's version; applied back, it is a precondition.
stale=$(ctl get meshtrafficpermission web-to-backend -o json)
out=$(sed 's/"action": "Allow"/"action": "Deny"/' <<<"$stale" | ctl apply -f -)
check "a changed document is updated" \
  [ "$out" = 'updated MeshTrafficPermission "web-to-backend" in mesh "default"' ]
check "the version grows" [ "$(version_of meshtrafficpermission web-to-backend default)" -gt \
  "$(sed -n 's/^  "version": \([0-9]*\),*$/\1/p' <<<"$stale")" ]
if err=$(ctl apply -f - <<<"$stale" 2>&1 >/dev/null); then
  fail "a stale version is refused"
else
  check "a stale version is refused with an error" grep -q '^Error: ' <<<"$err"
fi

# --- inspect ----------------------------------------------------------------------------------------
out=$(ctl inspect dataplanes)
check "inspect dataplanes header" \
  [ "$(head -1 <<<"$out" | tr -s ' ')" = "MESH NAME TAGS STATUS CONFIG ACKED CERT EXPIRY LAST REJECTION" ]
check "inspect dataplanes row" grep -q "^default   backend-1 .*Offline" <<<"$out"
out=$(ctl inspect dataplane backend-1 --type policies)
check "inspect dataplane --type policies names the route" grep -q '"backend-split"' <<<"$out"
if err=$(ctl inspect dataplane nope --type policies 2>&1 >/dev/null); then
  fail "inspect of an absent dataplane fails"
else
  check "inspect of an absent dataplane prints the API's error" grep -q '^Error: .*nope' <<<"$err"
fi

# --- config: the current context replaces --api ------------------------------------------------------
out=$("$ctl_bin" config control-planes add --name it --address "$api")
check "config add" grep -q 'switched context to "it"' <<<"$out"
check "config file is 0600" [ "$(stat -c %a "$HOME/.braidctl/config")" = 600 ]
check "get through the current context" grep -q "^default " <<<"$("$ctl_bin" get meshes)"
if "$ctl_bin" config control-planes add --name it --address "$api" 2>/dev/null; then
  fail "adding an existing control plane without --overwrite is refused"
else
  pass
fi

# --- delete -------------------------------------------------------------------------------------------
while read -r type plural singular name mesh; do
  [ "$type" = Mesh ] && continue  # last: deleting the mesh may take its resources with it
  # shellcheck disable=SC2046
  out=$(ctl delete "$singular" "$name" $(mesh_flag "$mesh"))
  check "delete $singular $name" [ "$out" = "deleted $(describe "$type" "$name" "$mesh")" ]
  # shellcheck disable=SC2046
  if err=$(ctl get "$singular" "$name" $(mesh_flag "$mesh") 2>&1 >/dev/null); then
    fail "get after delete of $name"
  else
    check "get after delete of $name: not found" [ "$err" = \
      "Error: $(describe "$type" "$name" "$mesh" | sed 's/" in mesh/" not found in mesh/; /not found/!s/$/ not found/')" ]
  fi
done <<<"$resources"
check "delete mesh default" [ "$(ctl delete mesh default)" = 'deleted Mesh "default"' ]
if err=$(ctl delete meshtimeout t1 2>&1 >/dev/null); then
  fail "deleting an absent resource fails"
else
  check "deleting an absent resource" [ "$err" = 'Error: MeshTimeout "t1" not found in mesh "default"' ]
fi

# --- invalid files: exit 1, Error:, every field named, nothing written -------------------------------
for file in tests/golden/resources/invalid/*.yaml; do
  golden=${file%.yaml}.golden
  set +e
  err=$(ctl apply -f "$file" 2>&1 >/dev/null)
  status=$?
  set -e
  check "$file: exit 1" [ "$status" = 1 ]
  check "$file: Error:" grep -q '^Error: ' <<<"$err"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    field=${line%%: *}
    check "$file: names $field" grep -qF -- "$field" <<<"$err"
  done <"$golden"
done
set +e
ctl apply -f tests/golden/cli/apply-invalid.yaml >/dev/null 2>&1
status=$?
set -e
check "a file with an invalid document exits 1" [ "$status" = 1 ]
check "and writes not even its valid documents" [ "$(ctl get meshes -o yaml)" = "" ]

# --- an unreachable control plane ---------------------------------------------------------------------
set +e
err=$("$ctl_bin" --api http://127.0.0.1:1 get meshes 2>&1 >/dev/null)
status=$?
set -e
check "unreachable CP: exit 1" [ "$status" = 1 ]
check "unreachable CP: clear error" \
  grep -q '^Error: cannot reach the control plane at http://127.0.0.1:1: ' <<<"$err"

if [ "$failed" -ne 0 ]; then
  echo "--- braid-cp log" >&2
  tail -n 30 "$tmp/cp.log" >&2
fi
echo "braidctl integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
