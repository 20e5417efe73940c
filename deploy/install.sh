#!/usr/bin/env bash
# Installs one Samenzicht service on this host: binaries, documentation, a dedicated system
# user, the configuration folder with the deployment's linkage profile, the state folder
# and the hardened systemd units (for the aggregator also the daily backup timer).
#
#   deploy/install.sh aggregator|agency-node|keyholder [--prefix /opt/samenzicht]
#                     [--build DIR] [--root DIR] [--no-user]
#
# keyholder is the optional key service (its own host): with it the agency nodes hold no
# hashing key.
#
# --root installs into a staging tree (for packaging and tests) instead of /, without
# creating the user or changing owners. Nothing is started: write /etc/samenzicht/*.textproto
# and keys first (docs/operations.md), then
#   systemctl enable --now samenzicht-aggregator     (or samenzicht-agency-node, samenzicht-keyholder)
#
# Owners (docs/operations.md, "Who owns what"): /etc/samenzicht root:samenzicht 0750, the
# profile in it root:samenzicht 0640; /var/lib/samenzicht-aggregator, -node or -keyholder and
# /var/backups/samenzicht samenzicht:samenzicht 0700. An existing profile is left as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
usage() { sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
role=${1:-}; shift || true
case "$role" in -h|--help) usage; exit 0 ;; esac
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
  aggregator) bin="$build/aggregator/aggregator"; state=/var/lib/samenzicht-aggregator
              units="samenzicht-aggregator.service samenzicht-aggregator-backup.service samenzicht-aggregator-backup.timer" ;;
  agency-node) bin="$build/agency_node/agency-node"; state=/var/lib/samenzicht-node
               units="samenzicht-agency-node.service" ;;
  keyholder) bin="$build/keyholder/keyholder"; state=/var/lib/samenzicht-keyholder
             units="samenzicht-keyholder.service" ;;
  *) usage >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "install: $bin not built; run deploy/build.sh first" >&2; exit 1; }

SUDO=""
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
# Owners only on a real installation with the user.
owners=0; [ -z "$root" ] && [ $make_user -eq 1 ] && owners=1

if [ $owners -eq 1 ] && ! id samenzicht >/dev/null 2>&1; then
  $SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin samenzicht
fi
# own USER:GROUP MODE DIR: a folder with its owner (when installing for real) and mode.
own_dir() {
  if [ $owners -eq 1 ]; then
    $SUDO install -d -m "$2" -o "${1%%:*}" -g "${1##*:}" "$root$3"
  else
    $SUDO install -d -m "$2" "$root$3"
  fi
}

$SUDO install -d -m 0755 "$root$prefix/bin" "$root$prefix/share/doc/samenzicht" "$root/etc/systemd/system"
$SUDO install -m 0755 "$bin" "$root$prefix/bin/"
$SUDO install -m 0755 "$here/pki.sh" "$root$prefix/bin/samenzicht-pki"
[ "$role" = aggregator ] && $SUDO install -m 0755 "$here/backup.sh" "$root$prefix/bin/samenzicht-backup"
$SUDO install -m 0644 "$here/config/profile.textproto" "$root$prefix/share/doc/samenzicht/profile.textproto"
for doc in "$repo/docs/operations.md" "$repo/docs/privacy-officer.md" "$repo/README.md"; do
  [ -f "$doc" ] && $SUDO install -m 0644 "$doc" "$root$prefix/share/doc/samenzicht/"
done
for unit in $units; do
  sed "s|@PREFIX@|$prefix|g" "$here/systemd/$unit" | $SUDO tee "$root/etc/systemd/system/$unit" >/dev/null
  $SUDO chmod 0644 "$root/etc/systemd/system/$unit"
done

own_dir root:samenzicht 0750 /etc/samenzicht
own_dir samenzicht:samenzicht 0700 /etc/samenzicht/keys
# The key service never sees a profile (it evaluates blinded inputs only).
if [ "$role" != keyholder ] && [ ! -e "$root/etc/samenzicht/profile.textproto" ]; then
  if [ $owners -eq 1 ]; then
    $SUDO install -m 0640 -o root -g samenzicht "$here/config/profile.textproto" "$root/etc/samenzicht/profile.textproto"
  else
    $SUDO install -m 0640 "$here/config/profile.textproto" "$root/etc/samenzicht/profile.textproto"
  fi
fi
own_dir samenzicht:samenzicht 0700 "$state"
[ "$role" = aggregator ] && own_dir samenzicht:samenzicht 0700 /var/backups/samenzicht
[ "$role" = agency-node ] && own_dir samenzicht:samenzicht 0700 "$state/import"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then $SUDO systemctl daemon-reload; fi
echo "install: $role installed under $root$prefix; units in $root/etc/systemd/system: $units"
