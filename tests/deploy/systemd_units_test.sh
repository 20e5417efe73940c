#!/usr/bin/env bash
# Installs the three services into a staging tree with deploy/install.sh, then checks the
# units (aggregator, agency node, key service, the backup service and its daily timer) with
# `systemd-analyze verify`
# and prints and bounds the services' `systemd-analyze security` exposure score (lower is
# better; 10 = unprotected).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: systemd_units_test.sh BUILD_DIR}
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed"; exit 77
fi
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
for role in aggregator agency-node keyholder; do
  SAMENZICHT_BUILD_DIR=$build "$repo/deploy/install.sh" "$role" --root "$stage" >/dev/null
done
status=0
for unit in samenzicht-aggregator.service samenzicht-agency-node.service samenzicht-keyholder.service \
            samenzicht-aggregator-backup.service; do
  f="$stage/etc/systemd/system/$unit"
  grep -q "^User=samenzicht$" "$f" || { echo "FAIL: $unit runs without a dedicated user"; status=1; }
  families="RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"
  # The backup talks to no one: only Unix sockets (journal), no network at all.
  [ "$unit" = samenzicht-aggregator-backup.service ] && families="RestrictAddressFamilies=AF_UNIX$"
  for d in ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes SystemCallFilter=@system-service \
           "$families" StateDirectory=; do
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
# The timer: it names the backup service (verify loads it from the same folder), runs daily,
# catches up after downtime, and is wanted by timers.target.
timer="$stage/etc/systemd/system/samenzicht-aggregator-backup.timer"
for d in "OnCalendar=" "Persistent=true" "WantedBy=timers.target"; do
  grep -q "^$d" "$timer" || { echo "FAIL: the backup timer lacks $d"; status=1; }
done
cp "$timer" "$stage/check/"
if ! out=$(cd "$stage/check" && systemd-analyze verify samenzicht-aggregator-backup.timer 2>&1); then
  echo "FAIL: systemd-analyze verify samenzicht-aggregator-backup.timer:"; echo "$out"; status=1
else
  echo "ok: systemd-analyze verify samenzicht-aggregator-backup.timer"
fi
next=$(systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$timer")" 2>/dev/null | sed -n 's/^ *Next elapse: //p')
echo "backup timer: next elapse ${next:-?}"
[ -n "$next" ] || { echo "FAIL: the timer's OnCalendar does not parse"; status=1; }
grep -q "^ExecStart=/opt/samenzicht/bin/samenzicht-backup$" "$stage/etc/systemd/system/samenzicht-aggregator-backup.service" &&
  [ -x "$stage/opt/samenzicht/bin/samenzicht-backup" ] || { echo "FAIL: the backup service does not run the installed samenzicht-backup"; status=1; }
# The key service runs the installed keyholder with its configuration, its trail in its own
# state folder.
kh="$stage/etc/systemd/system/samenzicht-keyholder.service"
grep -q "^ExecStart=/opt/samenzicht/bin/keyholder serve --config /etc/samenzicht/keyholder.textproto$" "$kh" &&
  grep -q "^StateDirectory=samenzicht-keyholder$" "$kh" && [ -x "$stage/opt/samenzicht/bin/keyholder" ] &&
  [ -d "$stage/var/lib/samenzicht-keyholder" ] ||
  { echo "FAIL: the key service unit does not run the installed keyholder with its own state folder"; status=1; }
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
