#!/usr/bin/env bash
# Configures and builds the project into build/ (or $SAMENZICHT_BUILD_DIR), with ccache.
#
#   deploy/build.sh [TARGET ...]     (no TARGET: everything; e.g. agency-node aggregator)
#
# SAMENZICHT_CMAKE_ARGS adds CMake options at the first configuration (RelWithDebInfo by
# default). Exit codes: 0 built, 2 usage error, otherwise the build's.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SAMENZICHT_BUILD_DIR:-$root/build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so a fresh clone elsewhere (CI) still hits the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${SAMENZICHT_CMAKE_ARGS:-} >/dev/null
fi
jobs=$(nproc 2>/dev/null || echo 2)
if [ $# -gt 0 ]; then
  cmake --build "$build" -j"$jobs" --target "$@"
else
  cmake --build "$build" -j"$jobs"
fi
