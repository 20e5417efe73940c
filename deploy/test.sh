#!/usr/bin/env bash
# The test command: installs what it needs, builds everything, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/install-deps.sh"
"$root/deploy/build.sh"
build=${SAMENZICHT_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" --timeout 600
