#!/usr/bin/env bash
# deploy/keep-artefacts.sh keeps every screenshot below BUILD/tests under its relative path,
# nothing else, empties DEST first, and says how many.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
b=$tmp/build
mkdir -p "$b/tests/agency_node/web/browser" "$b/tests/dashboard/work" "$b/other"
printf 'png1' >"$b/tests/agency_node/web/browser/01-wrong password.png"
printf 'png2' >"$b/tests/dashboard/work/dashboard.png"
printf 'log' >"$b/tests/dashboard/work/node.log"
printf 'png3' >"$b/other/outside.png"
mkdir -p "$tmp/dest/old" && printf 'stale' >"$tmp/dest/old/stale.png"
out=$(bash "$root/deploy/keep-artefacts.sh" "$b" "$tmp/dest")
fail() { echo "FAIL: $*"; exit 1; }
[ "$out" = "keep-artefacts.sh: 2 screenshot(s) of the browser tests kept in $tmp/dest" ] || fail "output: $out"
[ "$(cat "$tmp/dest/tests/agency_node/web/browser/01-wrong password.png")" = png1 ] || fail "intake screenshot"
[ "$(cat "$tmp/dest/tests/dashboard/work/dashboard.png")" = png2 ] || fail "dashboard screenshot"
[ "$(find "$tmp/dest" -type f | wc -l)" = 2 ] || fail "kept more than the screenshots: $(find "$tmp/dest" -type f)"
# A tree without tests (a failed configure): none kept, exit 0.
out=$(bash "$root/deploy/keep-artefacts.sh" "$tmp/empty" "$tmp/dest2")
[ "$out" = "keep-artefacts.sh: 0 screenshot(s) of the browser tests kept in $tmp/dest2" ] || fail "empty: $out"
set +e
bash "$root/deploy/keep-artefacts.sh" "$b" 2>/dev/null; rc=$?
set -e
[ "$rc" = 2 ] || fail "usage error exit $rc"
echo "keep_artefacts_test: pass"
