#!/usr/bin/env bash
# The test command: installs what it needs (deploy/install-deps.sh), builds everything
# (deploy/build.sh) and runs every test with ctest in build/, then the whole suite again
# under AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/, then a short
# libFuzzer run of each fuzz target. On a 2-core machine about 35 to 55 minutes with a warm
# compiler cache (README, Quick start).
#
#   deploy/test.sh      (no arguments)
#
# SAMENZICHT_SKIP_ASAN=1 and SAMENZICHT_SKIP_FUZZ=1 skip the last two stages;
# SAMENZICHT_PRUNE_BUILDS=1 (the default with CI=true) deletes each stage's build tree once
# it passed. The browser tests' screenshots of each test stage are kept in test-artefacts/
# (release/, sanitizers/; $SAMENZICHT_ARTEFACTS_DIR overrides it), passed or failed.
# Exit codes: 0 every test passed, 2 usage error, otherwise the failing stage's.
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "test.sh: takes no arguments (see --help)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/install-deps.sh"
# ccache hits across clones: paths are hashed relative to the checkout.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
"$root/deploy/build.sh"
build=${SAMENZICHT_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)
# Free disk space left, printed before each stage: a full disk fails tests far from its cause.
space() { echo "test.sh: $1; free on $(df -h --output=avail "$root" | tail -1 | tr -d ' ') of the checkout's disk"; }
# On a CI runner (CI=true) a stage's build tree is deleted once the stage passed, so the three
# trees (release, sanitizers, fuzzing) never take disk space together. SAMENZICHT_PRUNE_BUILDS
# =1 or =0 overrides that.
prune=${SAMENZICHT_PRUNE_BUILDS:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}
artefacts=${SAMENZICHT_ARTEFACTS_DIR:-$root/test-artefacts}
space "release build done"
rc=0
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 600) || rc=$?
"$root/deploy/keep-artefacts.sh" "$build" "$artefacts/release"
if [ "$rc" != 0 ]; then exit "$rc"; fi
if [ "$prune" = 1 ]; then rm -rf "$build"; fi

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# SAMENZICHT_SKIP_ASAN=1 skips it (e.g. a quick local run).
if [ "${SAMENZICHT_SKIP_ASAN:-0}" != 1 ]; then
  asan=${SAMENZICHT_ASAN_BUILD_DIR:-$root/build-asan}
  SAMENZICHT_BUILD_DIR="$asan" SAMENZICHT_CMAKE_ARGS="-DSAMENZICHT_SANITIZE=ON" "$root/deploy/build.sh"
  space "sanitizer build done"
  rc=0
  (cd "$asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" --timeout 900) || rc=$?
  "$root/deploy/keep-artefacts.sh" "$asan" "$artefacts/sanitizers"
  if [ "$rc" != 0 ]; then exit "$rc"; fi
  if [ "$prune" = 1 ]; then rm -rf "$asan"; fi
fi

# A short libFuzzer run of every target on its seed corpus (clang; fuzz/run.sh).
if [ "${SAMENZICHT_SKIP_FUZZ:-0}" != 1 ]; then
  space "fuzzing"
  bash "$root/fuzz/run.sh" "${SAMENZICHT_FUZZ_SECONDS:-15}"
fi
