#!/usr/bin/env bash
# The local demo: one aggregator and three agency nodes on loopback, with mutual TLS.
#
#   bash deploy/demo.sh [--keep-running] [--state-dir DIR]
#
# Installs what it needs (Debian packages), builds, creates a deployment CA and
# certificates, keys and configuration files, starts the aggregator (with its dashboard),
# has each agency node import its own sample CSV (deploy/demo/data/), prints the
# deduplicated totals as the municipality's analyst sees them, writes the council's report,
# and says what each role would do next. Stops the aggregator when done unless
# --keep-running (then the dashboard stays open in a browser).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.state/demo"
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-running) keep=1 ;;
    --state-dir) state=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s)
echo "demo: [1/6] Debian packages (installs only what is missing; the first time several minutes)"
"$root/deploy/install-deps.sh"
bin=${SAMENZICHT_BUILD_DIR:-$root/build}
echo "demo: [2/6] building agency-node and aggregator into $bin"
echo "      (the first build compiles the whole project: on 2 cores it takes a while, see the"
echo "      percentage below; later runs reuse it and take seconds)"
build_log=$(mktemp)
# The build's own progress, one line per 10 percent; its full output only on failure.
next_p=10
while IFS= read -r line; do
  printf '%s\n' "$line" >> "$build_log"
  if [[ $line =~ ^\[\ *([0-9]+)%\] ]] && [ "${BASH_REMATCH[1]}" -ge $next_p ]; then
    printf 'demo:   build %3d%%  (%d s)\n' "${BASH_REMATCH[1]}" $(( $(date +%s) - started ))
    next_p=$(( BASH_REMATCH[1] - BASH_REMATCH[1] % 10 + 10 ))
  fi
done < <("$root/deploy/build.sh" agency-node aggregator 2>&1; echo "build-exit-status $?")
if ! tail -n 1 "$build_log" | grep -q "^build-exit-status 0$"; then
  echo "demo: the build failed; its last lines:" >&2; tail -n 30 "$build_log" >&2; rm -f "$build_log"; exit 1
fi
rm -f "$build_log"
echo "demo:   built in $(( $(date +%s) - started )) s (with the packages)"
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

echo "demo: [3/6] certificates (deployment CA, aggregator, agencies, analyst, privacy officer)"
"$root/deploy/pki.sh" init pki >/dev/null
"$root/deploy/pki.sh" issue pki aggregator server >/dev/null
"$root/deploy/pki.sh" issue pki gemeente-analyst analyst >/dev/null
"$root/deploy/pki.sh" issue pki gemeente-fg privacy_officer >/dev/null
for a in "${AGENCIES[@]}"; do "$root/deploy/pki.sh" issue pki "${a%%:*}" agency >/dev/null; done
# The analyst's browser certificate for the dashboard, with a password made here.
"$root/deploy/pki.sh" p12 pki gemeente-analyst >/dev/null

echo "demo: [4/6] keys (shared hashing key for the agencies, a signing key per node, the aggregator's store key)"
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
dashboard_listen_address: "127.0.0.1:0"
tls { ca_cert_file: "../pki/ca.crt" cert_file: "../pki/aggregator.crt" key_file: "../pki/aggregator.key" crl_directory: "../pki/crl" }
data_dir: "data"
store_key_file: "../keys/aggregator-store.key"
profile_file: "../profile.textproto"
key_epoch: 1
min_cell_size: 5
areas: ["binnenstad", "oude_wijken", "west", "oost", "zuid", "haren", "ten_boer"]
$agency_entries
CFG

echo "demo: [5/6] starting the aggregator (gRPC for nodes and analysts, HTTPS dashboard)"
"$AGG" serve --config aggregator/aggregator.textproto --port-file aggregator/port \
  --dashboard-port-file aggregator/dashboard-port > aggregator/aggregator.log 2>&1 &
agg_pid=$!
stop() { kill "$agg_pid" 2>/dev/null && wait "$agg_pid" 2>/dev/null || true; }
[ $keep -eq 1 ] || trap stop EXIT
for _ in $(seq 1 100); do [ -s aggregator/port ] && break; sleep 0.1; done
[ -s aggregator/port ] || { echo "demo: aggregator did not start; see $state/aggregator/aggregator.log" >&2; cat aggregator/aggregator.log >&2; exit 1; }
port=$(cat aggregator/port)
for _ in $(seq 1 50); do [ -s aggregator/dashboard-port ] && break; sleep 0.1; done
dport=$(cat aggregator/dashboard-port 2>/dev/null || echo "?")
echo "demo: [6/6] each agency node imports its own export and sends tokens and categories"

for a in "${AGENCIES[@]}"; do
  IFS=: read -r id domain file <<<"$a"
  cat > "nodes/$id/node.textproto" <<CFG
node_id: "$id"
aggregator_address: "127.0.0.1:$port"
aggregator_server_name: "localhost"
tls { ca_cert_file: "../../pki/ca.crt" cert_file: "../../pki/$id.crt" key_file: "../../pki/$id.key" crl_directory: "../../pki/crl" }
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
tls { ca_cert_file: "pki/ca.crt" cert_file: "pki/gemeente-analyst.crt" key_file: "pki/gemeente-analyst.key" crl_directory: "pki/crl" }
CFG

echo
echo "== What the analyst may publish for 2024: signals and distinct persons after linkage =="
echo "   (protected by the Cell Key Method: every figure is 0 or at least 5 and may be off by a"
echo "   few, at most 15, a 0 at most 19; the same persons always give the same figure;"
echo "   docs/disclosure.md. No figure covers more than one year; 79 of the demo's 80 signals"
echo "   are of 2024)"
"$AGG" totals --config analyst.textproto --from 2024-01 --to 2024-12
echo
echo "== By form of exploitation, 2024 =="
"$AGG" totals --config analyst.textproto --by form --from 2024-01 --to 2024-12
echo
echo "== By reporting domain of the agency, 2024 (a person signalled by two domains counts in both) =="
"$AGG" totals --config analyst.textproto --by domain --from 2024-01 --to 2024-12
echo
echo "== The operator's check on the aggregator host: exact counts, never published =="
echo "   (aggregator exact-totals reads the store with the aggregator's own configuration and"
echo "   store key; the demo data hold 80 signals about 60 persons)"
"$AGG" exact-totals --config aggregator/aggregator.textproto 2>/dev/null
echo
echo "demo: the council's report (tables, charts, methods, hidden-number estimate)"
"$AGG" report --config analyst.textproto --period 2024-01..2024-12 --out "$state/council-report.html" 2>&1 | sed 's/^/    /'
p12_pass=$(cat pki/gemeente-analyst.p12.password)

cat <<TXT

== What you have now ==
  Totals:          above; the analyst may publish the protected figures, the exact ones
                   (80 signals about 60 persons) stay on the aggregator host.
  Council report:  $state/council-report.html (open it in a browser)
  Dashboard:       https://localhost:$dport/  (served while the aggregator runs: start the
                   demo with --keep-running to keep it open)
                   In the browser, import $state/pki/gemeente-analyst.p12
                   (password: $p12_pass) as your own certificate, and trust
                   $state/pki/ca.crt as an authority for web sites; or from a terminal:
                   curl --cacert $state/pki/ca.crt --cert-type P12 \\
                     --cert $state/pki/gemeente-analyst.p12:$p12_pass 'https://localhost:$dport/api/totals?from=2024-01&to=2024-12'
  State:           aggregator database $state/aggregator/data (no identifiers, tokens keyed
                   again); agency nodes $state/nodes/<node>/state (record id -> report id,
                   what was sent)

== What each role does next ==
  Agency operator:   checks what leaves the building, then sends the export:
                     agency-node pseudonymise --key KEY --in export.csv --out check.jsonl
                     agency-node submit --config node.textproto --in export.csv
  Professional:      registers one signal in a minute on the agency's intake page (a web
                     form at the node: agency-node serve with intake_listen_address;
                     docs/operations.md, section 5b); it leaves as tokens and categories
  Analyst:           aggregator totals --config analyst.textproto --by form,age_band
                     (and the dashboard, and aggregator report for the council)
  Privacy officer:   verifies the signed audit trail offline (docs/privacy-officer.md):
                     aggregator audit verify --data-dir DATA_DIR --public-key AUDIT_KEY
  Administrator:     installs and runs it on real hosts, step by step: docs/operations.md
                     (certificates with samenzicht-pki, the sealed key ceremony, backups)
TXT
echo
echo "demo: done in $(( $(date +%s) - started )) s"
if [ $keep -eq 1 ]; then
  echo "demo: the aggregator keeps running on 127.0.0.1:$port, dashboard https://localhost:$dport/ (pid $agg_pid); stop it with: kill $agg_pid"
  echo "      query it with: $AGG totals --config $state/analyst.textproto --by form,age_band"
else
  echo "demo: aggregator stopped (run with --keep-running to keep it and the dashboard up)"
fi
