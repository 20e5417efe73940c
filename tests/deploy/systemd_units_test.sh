#!/usr/bin/env bash
# Installs both services into a staging tree with deploy/install.sh, then checks the units
# with `systemd-analyze verify` and prints and bounds their `systemd-analyze security`
# exposure score (lower is better; 10 = unprotected).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: systemd_units_test.sh BUILD_DIR}
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed"; exit 77
fi
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
for role in aggregator agency-node; do
  SAMENZICHT_BUILD_DIR=$build "$repo/deploy/install.sh" "$role" --root "$stage" >/dev/null
done
status=0
for unit in samenzicht-aggregator.service samenzicht-agency-node.service; do
  f="$stage/etc/systemd/system/$unit"
  grep -q "^User=samenzicht$" "$f" || { echo "FAIL: $unit runs without a dedicated user"; status=1; }
  for d in ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes SystemCallFilter=@system-service \
           "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" StateDirectory=; do
    grep -q "^$d" "$f" || { echo "FAIL: $unit lacks $d"; status=1; }
  done
  # verify needs the executable where ExecStart says: point it into the staging tree.
  check="$stage/check/$unit"; mkdir -p "$stage/check"
  sed "s|^ExecStart=/opt/samenzicht|ExecStart=$stage/opt/samenzicht|" "$f" > "$check"
  if ! out=$(systemd-analyze verify "$check" 2>&1); then
    echo "FAIL: systemd-analyze verify $unit:"; echo "$out"; status=1
  else
    echo "ok: systemd-analyze verify $unit"
  fi
  score=$(systemd-analyze security --offline=true "$check" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  echo "exposure score $unit: ${score:-?}"
  if [ -z "$score" ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    echo "FAIL: $unit exposure ${score:-unknown} is above 2.0"; status=1
  fi
done
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
