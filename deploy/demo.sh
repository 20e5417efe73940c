#!/usr/bin/env bash
# The local demo: one aggregator and three agency nodes on loopback, with mutual TLS.
#
#   bash deploy/demo.sh [--keep-running] [--state-dir DIR]
#
# Installs what it needs (Debian packages), builds, creates a deployment CA and
# certificates, keys and configuration files, starts the aggregator, has each agency node
# import its own sample CSV (deploy/demo/data/), and prints the deduplicated totals as the
# municipality's analyst sees them. Stops the aggregator when done unless --keep-running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.state/demo"
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-running) keep=1 ;;
    --state-dir) state=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

"$root/deploy/install-deps.sh"
echo "demo: building (first time takes a few minutes)"
"$root/deploy/build.sh" agency-node aggregator >/dev/null
bin=${SAMENZICHT_BUILD_DIR:-$root/build}
NODE="$bin/agency_node/agency-node"
AGG="$bin/aggregator/aggregator"

rm -rf "$state"
mkdir -p "$state"
chmod 700 "$state"
cd "$state"

# Agencies of the demo: node id, reporting domain, sample file.
AGENCIES=("police:DOMAIN_POLICE:police.csv"
          "youth-care:DOMAIN_YOUTH_CARE:youth_care.csv"
          "care-institution:DOMAIN_MENTAL_HEALTH:care_institution.csv")

echo "demo: certificates (deployment CA, aggregator, agencies, analyst, privacy officer)"
"$root/deploy/pki.sh" init pki >/dev/null
"$root/deploy/pki.sh" issue pki aggregator server >/dev/null
"$root/deploy/pki.sh" issue pki gemeente-analyst analyst >/dev/null
"$root/deploy/pki.sh" issue pki gemeente-fg privacy_officer >/dev/null
for a in "${AGENCIES[@]}"; do "$root/deploy/pki.sh" issue pki "${a%%:*}" agency >/dev/null; done

echo "demo: keys (shared hashing key for the agencies, a signing key per node, the aggregator's store key)"
mkdir -p keys aggregator
"$NODE" keygen --out keys/shared-hashing.key --epoch 1 >/dev/null
"$AGG" store-keygen --out keys/aggregator-store.key >/dev/null
cp "$root/deploy/config/profile.textproto" profile.textproto

agency_entries=""
for a in "${AGENCIES[@]}"; do
  IFS=: read -r id domain file <<<"$a"
  mkdir -p "nodes/$id"
  # In a real deployment the shared key reaches each node sealed to that node (see
  # docs/operations.md); here all nodes live on one machine.
  install -m 600 keys/shared-hashing.key "nodes/$id/hashing.key"
  pub=$("$NODE" signing-keygen --out "nodes/$id/signing.key" | tail -n 1)
  agency_entries+="agencies { node_id: \"$id\" domain: $domain signing_public_key: \"$pub\" }
"
done

cat > aggregator/aggregator.textproto <<CFG
listen_address: "127.0.0.1:0"
tls { ca_cert_file: "../pki/ca.crt" cert_file: "../pki/aggregator.crt" key_file: "../pki/aggregator.key" crl_directory: "../pki/crl" }
data_dir: "data"
store_key_file: "../keys/aggregator-store.key"
profile_file: "../profile.textproto"
key_epoch: 1
min_cell_size: 5
areas: ["binnenstad", "oude_wijken", "west", "oost", "zuid", "haren", "ten_boer"]
$agency_entries
CFG

echo "demo: starting the aggregator"
"$AGG" serve --config aggregator/aggregator.textproto --port-file aggregator/port \
  > aggregator/aggregator.log 2>&1 &
agg_pid=$!
stop() { kill "$agg_pid" 2>/dev/null && wait "$agg_pid" 2>/dev/null || true; }
[ $keep -eq 1 ] || trap stop EXIT
for _ in $(seq 1 100); do [ -s aggregator/port ] && break; sleep 0.1; done
[ -s aggregator/port ] || { echo "demo: aggregator did not start; see $state/aggregator/aggregator.log" >&2; cat aggregator/aggregator.log >&2; exit 1; }
port=$(cat aggregator/port)

for a in "${AGENCIES[@]}"; do
  IFS=: read -r id domain file <<<"$a"
  cat > "nodes/$id/node.textproto" <<CFG
node_id: "$id"
aggregator_address: "127.0.0.1:$port"
aggregator_server_name: "localhost"
tls { ca_cert_file: "../../pki/ca.crt" cert_file: "../../pki/$id.crt" key_file: "../../pki/$id.key" }
hashing_key_file: "hashing.key"
signing_key_file: "signing.key"
profile_file: "../../profile.textproto"
state_dir: "state"
areas: ["binnenstad", "oude_wijken", "west", "oost", "zuid", "haren", "ten_boer"]
CFG
  echo "demo: $id imports $file"
  "$NODE" submit --config "nodes/$id/node.textproto" --in "$root/deploy/demo/data/$file" | sed 's/^/    /'
done

cat > analyst.textproto <<CFG
aggregator_address: "127.0.0.1:$port"
aggregator_server_name: "localhost"
tls { ca_cert_file: "pki/ca.crt" cert_file: "pki/gemeente-analyst.crt" key_file: "pki/gemeente-analyst.key" }
CFG

echo
echo "== What the analyst may publish: signals and distinct persons after linkage =="
echo "   (protected by the Cell Key Method: every figure is 0 or at least 5 and may be off by a"
echo "   few, at most 15; the same persons always give the same figure; docs/disclosure.md)"
"$AGG" totals --config analyst.textproto
echo
echo "== By form of exploitation =="
"$AGG" totals --config analyst.textproto --by form
echo
echo "== By reporting domain of the agency (a person signalled by two domains counts in both) =="
"$AGG" totals --config analyst.textproto --by domain
echo
echo "== The operator's check on the aggregator host: exact counts, never published =="
echo "   (aggregator exact-totals reads the store with the aggregator's own configuration and"
echo "   store key; the demo data hold 80 signals about 60 persons)"
"$AGG" exact-totals --config aggregator/aggregator.textproto 2>/dev/null
echo
echo "demo: state lives in $state"
echo "      aggregator database: $state/aggregator/data (no identifiers, tokens keyed again)"
echo "      agency nodes:        $state/nodes/<node>/state (record_id -> report_id, what was sent)"
if [ $keep -eq 1 ]; then
  echo "demo: the aggregator keeps running on 127.0.0.1:$port (pid $agg_pid); stop it with: kill $agg_pid"
  echo "      query it with: $AGG totals --config $state/analyst.textproto --by form,age_band"
else
  echo "demo: aggregator stopped (run with --keep-running to keep it up)"
fi
