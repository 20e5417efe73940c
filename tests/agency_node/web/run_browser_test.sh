#!/usr/bin/env bash
# CTest entry for the intake page browser test. Skips (exit 77) with a clear message when
# Debian's chromium or node is not installed; deploy/install-deps.sh installs both.
set -euo pipefail
fixture="$1"; work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "SKIP: $chromium not installed (apt-get install chromium chromium-driver, or deploy/install-deps.sh)"
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node/npm not installed"
  exit 77
fi
# playwright-core from the committed lock file (offline when npm's cache has it); installed
# again when the installed version is not the pinned one. The pin runs on Node.js 18
# (Debian 12's own): playwright-core 1.62 and later require Node.js 20 (the test
# deploy_browser_pin checks the pin).
pinned=$(sed -n 's/.*"playwright-core": "\([0-9.]*\)".*/\1/p' "$here/package.json")
installed=$(sed -n 's/^  "version": "\([0-9.]*\)".*/\1/p' "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$installed" != "$pinned" ]; then
  (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
exec node "$here/intake_page.test.mjs" "$fixture" "$work"
