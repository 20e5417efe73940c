#!/usr/bin/env bash
# The aggregator's backup, as the daily timer runs it (installed as samenzicht-backup):
# an online copy of the database while the aggregator runs, named by the time it began
# (UTC), then backups older than SAMENZICHT_BACKUP_KEEP_DAYS deleted. Run it as the service
# user:
#   sudo -u samenzicht /opt/samenzicht/bin/samenzicht-backup
# Environment (defaults in brackets): SAMENZICHT_CONFIG [/etc/samenzicht/aggregator.textproto],
# SAMENZICHT_BACKUP_DIR [/var/backups/samenzicht], SAMENZICHT_BACKUP_KEEP_DAYS [35; 0 keeps all].
# Exit codes: 0 done, 1 the backup failed (the reason on stderr), 2 usage error.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "samenzicht-backup: takes no arguments (see --help)" >&2; exit 2 ;;
esac
bin=$(cd "$(dirname "$0")" && pwd)
config=${SAMENZICHT_CONFIG:-/etc/samenzicht/aggregator.textproto}
dir=${SAMENZICHT_BACKUP_DIR:-/var/backups/samenzicht}
keep=${SAMENZICHT_BACKUP_KEEP_DAYS:-35}
case "$keep" in *[!0-9]*|"") echo "samenzicht-backup: SAMENZICHT_BACKUP_KEEP_DAYS must be a number of days" >&2; exit 2 ;; esac
umask 077
out="$dir/aggregator-$(date -u +%Y-%m-%dT%H%M%SZ).db"
"$bin/aggregator" backup --config "$config" --out "$out"
if [ "$keep" -gt 0 ]; then
  find "$dir" -maxdepth 1 -type f -name 'aggregator-*.db' -mtime "+$keep" -print -delete |
    sed 's/^/samenzicht-backup: deleted (older than the kept days) /'
fi
