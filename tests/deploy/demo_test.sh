#!/usr/bin/env bash
# The README's first command, as a newcomer runs it: deploy/demo.sh (with --keep-running
# and a state folder of its own), then what it printed is followed: the progress of its six
# steps, each agency's import accounted for (80 records read and accepted), the operator's
# exact check (60 persons, 80 signals), the analyst's published totals protected (0 or at
# least 5, within 15 of the exact counts), the council report it names, the PKCS#12 file
# and the password it prints (they open together), the dashboard through the curl command
# it prints, and what each role does next. The README's sample of the output must match:
# its section headings, its step lines and its role lines appear as printed.
#
#   demo_test.sh BUILD_DIR
#
# Skips (exit 77) when the demo would install Debian packages (deploy/install-deps.sh
# --check names the missing ones): a test installs nothing. The demo's build of
# agency-node and aggregator in BUILD_DIR finds them built.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: demo_test.sh BUILD_DIR}" && pwd)
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
missing=$(bash "$repo/deploy/install-deps.sh" --check 2>&1) || { echo "SKIP: $missing"; exit 77; }
work=$(mktemp -d /tmp/samenzicht-demo.XXXXXX)
agg_pid=""
cleanup() {
  [ -n "$agg_pid" ] && kill "$agg_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
state="$work/demo"
out="$work/out.txt"
if ! SAMENZICHT_BUILD_DIR=$build bash "$repo/deploy/demo.sh" --keep-running --state-dir "$state" > "$out" 2>&1; then
  agg_pid=$(sed -n 's/.*(pid \([0-9]*\)); stop it with.*/\1/p' "$out")
  tail -n 40 "$out"; fail "deploy/demo.sh exited non-zero"
fi
agg_pid=$(sed -n 's/.*(pid \([0-9]*\)); stop it with.*/\1/p' "$out")
[ -n "$agg_pid" ] && kill -0 "$agg_pid" 2>/dev/null || { tail -n 20 "$out"; fail "the demo names no running aggregator (--keep-running)"; }
echo "ok: deploy/demo.sh ran in $(sed -n 's/^demo: done in \([0-9]*\) s$/\1/p' "$out") s"

# The six steps, in order.
steps=$(grep -o '^demo: \[[0-9]/6\]' "$out" | tr -d '\n')
[ "$steps" = "demo: [1/6]demo: [2/6]demo: [3/6]demo: [4/6]demo: [5/6]demo: [6/6]" ] ||
  fail "the demo's progress lines are '$steps'"
echo "ok: the six progress lines, in order"

# Every record of the three sample files read and accepted.
read_n=$(awk '/^    records read:/ { s += $3 } END { print s + 0 }' "$out")
acc_n=$(awk '/^    accepted:/ { s += $2 } END { print s + 0 }' "$out")
[ "$read_n" = 80 ] && [ "$acc_n" = 80 ] || fail "the agencies read $read_n and had $acc_n accepted, not 80 and 80"
echo "ok: the three agencies read 80 records, 80 accepted"

# A section's first table row (persons, signals): the line after the dashes.
first_row() { awk -v h="$1" 'index($0, h) == 1 { on = 1; next } on && /^-+$/ { getline; print $1, $2; exit }' "$out"; }
read -r ep es < <(first_row "== The operator's check")
[ "$ep $es" = "60 80" ] || fail "the operator's exact check shows '$ep $es', not 60 persons and 80 signals"
read -r pp ps < <(first_row "== What the analyst may publish")
for pair in "$pp:60" "$ps:80"; do
  shown=${pair%%:*}; exact=${pair##*:}
  [[ $shown =~ ^[0-9]+$ ]] || fail "the published total is '$shown'"
  d=$(( shown > exact ? shown - exact : exact - shown ))
  [ "$shown" -ge 5 ] && [ "$d" -le 15 ] || fail "published $shown is not a protected figure near $exact"
done
echo "ok: exact 60 persons and 80 signals for the operator; published $pp and $ps"

report=$(sed -n 's/^  Council report:  \(.*\) (open it in a browser)$/\1/p' "$out")
[ -s "$report" ] || fail "the council report '$report' the demo names does not exist"
grep -qi '<html' "$report" || fail "the council report $report is not HTML"
echo "ok: the council report $report ($(wc -c < "$report") bytes)"

p12=$(sed -n 's/^ *In the browser, import \(.*\.p12\)$/\1/p' "$out")
pass=$(sed -n 's/^ *(password: \(.*\)) as your own certificate, and trust$/\1/p' "$out")
[ -s "$p12" ] && [ -n "$pass" ] || fail "the demo names no PKCS#12 file and password ('$p12', '$pass')"
openssl pkcs12 -in "$p12" -passin "pass:$pass" -nokeys 2>/dev/null | grep -q "BEGIN CERTIFICATE" ||
  fail "$p12 does not open with the printed password"
echo "ok: $p12 opens with the printed password"

# The curl command exactly as printed (two lines joined at the backslash).
cmd=$(awk '/or from a terminal:$/ { getline a; getline b; sub(/\\$/, "", a); print a b; exit }' "$out")
case "$cmd" in *"curl "*"'https://localhost:"*"/api/totals?from=2024-01&to=2024-12'") ;; *) fail "the demo prints no dashboard curl command: '$cmd'" ;; esac
api=$(bash -c "$cmd --silent --show-error --fail" 2>&1) || fail "the printed curl command failed: $api"
dp=$(echo "$api" | sed -n 's/.*"total_persons": {"value": \([0-9]*\),.*/\1/p')
ds=$(echo "$api" | sed -n 's/.*"total_signals": {"value": \([0-9]*\),.*/\1/p')
[ "$dp $ds" = "$pp $ps" ] ||
  fail "the dashboard shows '$dp $ds' persons and signals, the analyst's command '$pp $ps': $(echo "$api" | head -c 300)"
echo "ok: the dashboard answers the printed curl command with the same totals ($dp persons, $ds signals)"

# What each role does next.
for role in "Agency operator:" "Professional:" "Analyst:" "Privacy officer:" "Administrator:"; do
  grep -q "^  $role" "$out" || fail "no next step for '$role'"
done
echo "ok: a next step for each of the five roles"

# The README's sample of the output: headings, step lines (up to a path) and role lines.
sample=$(awk '/^## Quick start/ { q = 1 } q && /^## / && !/Quick start/ { exit }
              q && /^```/ { n++; next } q && n == 3 { print }' "$repo/README.md")
[ -n "$sample" ] || fail "no sample output in the README's Quick start"
checked=0
while IFS= read -r line; do
  case "$line" in
    "== "*|"  Agency operator:"*|"  Professional:"*|"  Analyst:"*|"  Privacy officer:"*|"  Administrator:"*)
      grep -qxF -- "$line" "$out" || fail "the README's sample line '$line' is not in the demo's output" ;;
    "demo: ["*)
      line=${line%%/home/you*}
      grep -q "^$(printf '%s' "$line" | sed 's/[][\.*^$]/\\&/g')" "$out" ||
        fail "the README's sample line '$line' is not in the demo's output" ;;
    *) continue ;;
  esac
  checked=$((checked + 1))
done <<< "$sample"
[ $checked -ge 10 ] || fail "only $checked lines of the README's sample were compared"
echo "ok: $checked lines of the README's sample output appear in the demo's output"
echo "1 passed, 0 failed"
