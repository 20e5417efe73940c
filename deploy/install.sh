#!/usr/bin/env bash
# Installs one Samenzicht service on this host: binaries, documentation, a dedicated system
# user, the configuration folder and the hardened systemd unit.
#
#   deploy/install.sh aggregator|agency-node [--prefix /opt/samenzicht] [--build DIR]
#                     [--root DIR] [--no-user]
#
# --root installs into a staging tree (for packaging and tests) instead of /. Nothing is
# started: write /etc/samenzicht/*.textproto and keys first (docs/operations.md), then
#   systemctl enable --now samenzicht-aggregator     (or samenzicht-agency-node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
role=${1:-}; shift || true
prefix=/opt/samenzicht build=${SAMENZICHT_BUILD_DIR:-$repo/build} root="" make_user=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift ;;
    --build) build=$2; shift ;;
    --root) root=$2; shift ;;
    --no-user) make_user=0 ;;
    *) echo "install: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$role" in
  aggregator) bin="$build/aggregator/aggregator"; unit=samenzicht-aggregator.service ;;
  agency-node) bin="$build/agency_node/agency-node"; unit=samenzicht-agency-node.service ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
[ -x "$bin" ] || { echo "install: $bin not built; run deploy/build.sh first" >&2; exit 1; }

SUDO=""
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

$SUDO install -d -m 0755 "$root$prefix/bin" "$root$prefix/share/doc/samenzicht" "$root/etc/systemd/system"
$SUDO install -m 0755 "$bin" "$root$prefix/bin/"
$SUDO install -m 0755 "$here/pki.sh" "$root$prefix/bin/samenzicht-pki"
$SUDO install -m 0644 "$here/config/profile.textproto" "$root$prefix/share/doc/samenzicht/profile.textproto"
for doc in "$repo/docs/operations.md" "$repo/docs/privacy-officer.md" "$repo/README.md"; do
  [ -f "$doc" ] && $SUDO install -m 0644 "$doc" "$root$prefix/share/doc/samenzicht/"
done
sed "s|@PREFIX@|$prefix|g" "$here/systemd/$unit" | $SUDO tee "$root/etc/systemd/system/$unit" >/dev/null
$SUDO chmod 0644 "$root/etc/systemd/system/$unit"

if [ -z "$root" ] && [ $make_user -eq 1 ]; then
  if ! id samenzicht >/dev/null 2>&1; then
    $SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin samenzicht
  fi
  $SUDO install -d -m 0750 -o root -g samenzicht /etc/samenzicht
  if [ -d /run/systemd/system ]; then $SUDO systemctl daemon-reload; fi
fi
echo "install: $role installed under $root$prefix; unit $root/etc/systemd/system/$unit"
