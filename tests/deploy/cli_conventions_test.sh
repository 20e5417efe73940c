#!/usr/bin/env bash
# Every program's --version names the program, the project version and the commit it was
# built from (the commit of this checkout); --help goes to stdout with exit 0 and nothing
# on stderr; an unknown command or flag exits 2 with the usage on stderr; no --help names
# the source tree; the scripts under deploy/ answer --help and refuse unknown arguments.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: cli_conventions_test.sh BUILD_DIR}
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
version=$(sed -n 's/^project(samenzicht VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
declare -A progs=([agency-node]=agency_node/agency-node [aggregator]=aggregator/aggregator
                  [simulator]=simulator/simulator [mse-estimate]=estimate/mse-estimate
                  [keyholder]=keyholder/keyholder)
for name in "${!progs[@]}"; do
  bin="$build/${progs[$name]}"
  [ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
  out=$("$bin" --version) || fail "$name --version exited $?"
  [[ $out =~ ^$name\ \(Samenzicht\)\ $version,\ commit\ ([0-9a-f]{12}(-modified)?|unknown)$ ]] ||
    fail "$name --version printed '$out'"
  # Built from this checkout: the commit is HEAD's (the build may be older than HEAD when
  # only tests changed, so only a mismatch in a fresh build would mean a stale header).
  echo "ok: $out (HEAD $commit)"
  err=$("$bin" --help 2>&1 >/dev/null) || fail "$name --help exited non-zero"
  [ -z "$err" ] || fail "$name --help wrote to stderr: $err"
  [ -n "$("$bin" --help)" ] || fail "$name --help printed nothing"
done
# The benchmark programs answer --version the same way (a figure is only comparable with the
# build it came from); one that this build did not make (an optional dependency missing) is
# passed over by name.
benches=(perf/keyholder_bench perf/ingest_bench perf/linkage_bench perf/query_bench
         perf/pseudonymise_bench perf/ascii_fold_check mse/mse_simulation mse/mse_speed
         mse/mse_end_to_end load/load_test linkage_quality/linkage_quality)
nb=0
for b in "${benches[@]}"; do
  bin="$build/bench/$b"; name=${b#*/}
  [ -x "$bin" ] || { echo "not built, passed over: $name"; continue; }
  out=$("$bin" --version) || fail "$name --version exited $?"
  [[ $out =~ ^$name\ \(Samenzicht\)\ $version,\ commit\ ([0-9a-f]{12}(-modified)?|unknown)$ ]] ||
    fail "$name --version printed '$out'"
  nb=$((nb + 1))
done
[ "$nb" -gt 0 ] || fail "no benchmark program is built"
echo "ok: --version of $nb benchmark programs"
for sub in "agency-node pseudonymise" "agency-node submit" "aggregator totals" "aggregator backup" "aggregator audit"; do
  set -- $sub
  bin="$build/${progs[$1]}"
  out=$("$bin" "$2" --help 2>/dev/null) || fail "$sub --help exited non-zero"
  [ -n "$out" ] || fail "$sub --help printed nothing on stdout"
done
echo "ok: --help of every program and of five commands on stdout, exit 0"
# Every command each of the three installed programs lists (two-word ones such as `keyholder
# audit verify` too): --help on stdout, exit 0, nothing on stderr, in the layout of its kind:
# a command starts `COMMAND: summary` and has a `flags:` section; a command made of
# commands (`aggregator audit`) starts `usage: PROGRAM COMMAND`. Each group is asked as well.
n=0
for name in agency-node aggregator keyholder; do
  bin="$build/${progs[$name]}"
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    set +e; out=$("$bin" $c --help 2>"$build/.cli_err"); rc=$?; set -e
    err=$(cat "$build/.cli_err"); rm -f "$build/.cli_err"
    [ $rc -eq 0 ] || fail "$name $c --help exited $rc: $(echo "$err" | head -n 1)"
    [ -z "$err" ] || fail "$name $c --help wrote to stderr: $(echo "$err" | head -n 1)"
    first=$(echo "$out" | head -n 1)
    case "$first" in
      "$c: "?*) grep -q '^flags:$' <<< "$out" || fail "$name $c --help has no flags: section" ;;
      "usage: $name $c "*) ;;
      *) fail "$name $c --help starts '$first', not '$c: summary' or 'usage: $name $c ...'" ;;
    esac
    n=$((n + 1))
  done < <("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 }
                                on && /^  [a-z]/ { sub(/^  /, ""); split($0, f, /   */); print f[1]
                                                   if (split(f[1], w, " ") > 1) print w[1] }' | sort -u)
done
echo "ok: --help of the $n commands and command groups of agency-node, aggregator and keyholder on stdout, exit 0, in one layout"
# No --help names the source tree the program was built from: it does not exist on a host
# where the program is installed. Every command of the three installed programs.
n=0
for name in agency-node aggregator keyholder; do
  bin="$build/${progs[$name]}"
  cmds=$("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }')
  [ -n "$cmds" ] || fail "$name --help lists no commands"
  for c in "" $cmds; do
    out=$("$bin" $c --help 2>&1 || true)
    n=$((n + 1))
    case "$out" in *"$repo/"*) fail "$name $c --help names the source tree: $(echo "$out" | grep -F "$repo/" | head -n 1)" ;; esac
  done
done
echo "ok: no --help of the $n programs and commands names the source tree ($repo)"
for name in agency-node aggregator keyholder; do
  bin="$build/${progs[$name]}"
  set +e; err=$("$bin" no-such-command 2>&1 >/dev/null); rc=$?; set -e
  [ $rc -eq 2 ] || fail "$name no-such-command exited $rc, not 2"
  grep -q "usage:" <<< "$err" || fail "$name no-such-command printed no usage on stderr"
done
set +e; "$build/agency_node/agency-node" keygen --no-such-flag >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || fail "an unknown flag exited $rc, not 2"
set +e; "$build/agency_node/agency-node" key-fingerprint --key /nonexistent/key >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || fail "a missing key file exited $rc, not 1"
echo "ok: usage errors exit 2 with the usage on stderr, a runtime error exits 1"
# The scripts under deploy/: --help prints the usage on stdout, exit 0, and does nothing else
# (test.sh --help used to start the whole test suite); an unknown argument exits 2. The
# test's time limit (60 s) stops a script that starts working instead.
for s in build.sh demo.sh install.sh install-deps.sh pki.sh backup.sh test.sh; do
  out=$(bash "$repo/deploy/$s" --help 2>/dev/null) || fail "deploy/$s --help exited $?"
  [ "$(echo "$out" | wc -l)" -ge 3 ] || fail "deploy/$s --help printed no usage: $out"
  set +e; bash "$repo/deploy/$s" --no-such-option >/dev/null 2>&1; rc=$?; set -e
  [ $rc -eq 2 ] || fail "deploy/$s --no-such-option exited $rc, not 2"
done
echo "ok: every script under deploy/ answers --help with its usage (exit 0) and an unknown argument with exit 2"
echo "1 passed, 0 failed"
