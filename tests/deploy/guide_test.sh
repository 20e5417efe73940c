#!/usr/bin/env bash
# Follows docs/operations.md literally: the command blocks marked `<!-- test: HOST ... -->`
# are run in the order of the guide, unchanged, with bash on the host they name, in a
# deployment of seven hosts on one machine (network namespaces joined by a bridge; each host
# with its own /etc, /opt, /root, /var/lib and /var/backups by bind mounts, and the guide's
# host names in its /etc/hosts):
#
#   admin       beheer.gemeente.example      192.0.2.2
#   aggregator  aggregator.gemeente.example  192.0.2.10
#   agency      node.police-nn.example       192.0.2.11   (the guide's own agency)
#   agency      node.jeugdzorg.example       192.0.2.12   (its blocks with police-nn -> jeugdzorg)
#   analyst     analist.gemeente.example     192.0.2.20
#   keyholder   keyholder.gemeente.example   192.0.2.30   (the key service, section 7b; the
#                                                          first of two, section 7c)
#   keyholder2  keyholder2.regio.example     192.0.2.31   (the second key service, section 7c)
#
# Marker words after HOST: a NAME (only that agency), `per-agency` (an admin block run once
# per agency, with the name replaced), `wait-delivery` (afterwards the test waits until the
# aggregator holds every simulated record), `check-truth` (afterwards the stored counts must
# equal the simulator's ground truth), `check-epoch` (afterwards the key epoch in force must
# have gone up, no stored report may be below it, and the counts must equal the ground
# truth: a finished key rotation or profile change), `new-release` (before the block, the
# profile installed beside the program on every host becomes the next version, standing in
# for a new release installed by section 1), `switchover-begun` (before the block, the
# aggregator's key_switchover_month becomes the current month, standing in for the weeks the
# agencies are given; afterwards the configuration must hold only the epoch in force, the
# trail a key_epoch_retired entry, no report may be below the epoch and the counts must equal
# the ground truth). A marker and its block may be indented (steps
# of a numbered list). Stand-ins for what a test host lacks: `sudo`
# (runuser), `scp` (a copy into the other host's folders), `systemctl` and `journalctl` (the
# unit's ExecStart started as its User=, without systemd's sandboxing; the units themselves
# are checked by systemd_units_test.sh). Each agency's export at /root/export.csv is a
# simulated one (the case system's part).
#
# Then checks: the stored counts equal the simulator's ground truth (after delivery, after
# the restore, after the key rotation, after the profile change and at the end), a backup
# file exists, the backup check (`restore --config`) is in the live audit trail and the
# restore in the restored one, every agency host and the aggregator use the new profile after the profile
# change; after the move to the key service no agency host holds a hashing key (none named
# in node.textproto; no hashing key, sealed key or box key left in /etc/samenzicht/keys or
# /root), each daemon logged that it makes tokens through the key service, and the key
# service's trail verifies and counts evaluations for both agencies; after the move to two
# key services (section 7c) each agency's client configuration names the second, each
# service holds only its share of the epoch in force, both trails verify (each with its own
# key), the second evaluated no other epoch, both count the same evaluations of the
# epoch in force for each agency, and a node calling the second service directly with its
# own certificate is refused (no receipt of the first) and recorded; the administrator holds
# no shared hashing key and no sealed copy after the old epoch was retired; after the renewal the
# old certificate of police-nn is refused while the new one is accepted (with the key
# service the node's certificate is refused by the key service first, then by the
# aggregator); after the retirement a batch made with a key of the retired epoch is refused
# with FAILED_PRECONDITION and stores nothing. The repository and the build folder may lie
# under /root (a fresh clone there): each host still sees them at their own paths.
#
#   guide_test.sh BUILD_DIR            (as root; skips with exit 77 where namespaces cannot be made)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: guide_test.sh BUILD_DIR}" && pwd)
guide=${SAMENZICHT_GUIDE:-$repo/docs/operations.md}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces and mounts"
for c in ip unshare runuser curl openssl useradd sqlite3; do
  command -v "$c" >/dev/null || skip "$c not installed"
done
probe="szgprobe$$"
ip netns add "$probe" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "$probe"
unshare --mount --propagation private true 2>/dev/null || skip "cannot create mount namespaces here"

id=$$
work=$(mktemp -d /tmp/samenzicht-guide.XXXXXX)
chmod 755 "$work"
hosts=(admin agg police-nn jeugdzorg analyst keyholder keyholder2)
agencies=(police-nn jeugdzorg)
declare -A addr=([admin]=192.0.2.2 [agg]=192.0.2.10 [police-nn]=192.0.2.11 [jeugdzorg]=192.0.2.12
                 [analyst]=192.0.2.20 [keyholder]=192.0.2.30 [keyholder2]=192.0.2.31)
declare -A fqdn=([admin]=beheer.gemeente.example [agg]=aggregator.gemeente.example
                 [police-nn]=node.police-nn.example [jeugdzorg]=node.jeugdzorg.example
                 [analyst]=analist.gemeente.example [keyholder]=keyholder.gemeente.example
                 [keyholder2]=keyholder2.regio.example)
# Each host's short tag, in its namespace's and network interfaces' names (at most 15 bytes).
declare -A tag=([admin]=adm [agg]=agg [police-nn]=pol [jeugdzorg]=jeu [analyst]=ana [keyholder]=kh1
                [keyholder2]=kh2 [sw]=sw)
ns() { echo "szg${id}${tag[$1]}"; }
cleanup() {
  for h in "${hosts[@]}" sw; do
    ip netns pids "$(ns "$h")" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$(ns "$h")" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

# --- the network --------------------------------------------------------------------------
ip netns add "$(ns sw)"
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" link set br0 up
for h in "${hosts[@]}"; do
  ip netns add "$(ns "$h")"
  ip link add "v${id}${tag[$h]}" type veth peer name "s${id}${tag[$h]}"
  ip link set "v${id}${tag[$h]}" netns "$(ns "$h")"
  ip link set "s${id}${tag[$h]}" netns "$(ns sw)"
  ip -n "$(ns sw)" link set "s${id}${tag[$h]}" master br0 up
  ip -n "$(ns "$h")" link set "v${id}${tag[$h]}" name eth0
  ip -n "$(ns "$h")" addr add "${addr[$h]}/24" dev eth0
  ip -n "$(ns "$h")" link set eth0 up
  ip -n "$(ns "$h")" link set lo up
done

# --- each host's own file system parts ------------------------------------------------------
for h in "${hosts[@]}"; do
  mkdir -p "$work/$h"/{etc,opt,root,varlib,backups,run}
  cp -a /etc/. "$work/$h/etc/"
  chmod 700 "$work/$h/root"
  for o in "${hosts[@]}"; do echo "${addr[$o]} ${fqdn[$o]}"; done >> "$work/$h/etc/hosts"
  echo "${fqdn[$h]}" > "$work/$h/etc/hostname"
done
for h in "${hosts[@]}"; do echo "${fqdn[$h]} $h"; done > "$work/hosts.map"

# --- stand-ins: sudo, scp, systemctl, journalctl --------------------------------------------
shims="$work/shims"; mkdir -p "$shims"
mkdir -p "$work/keep/repo" "$work/keep/build"
cat > "$shims/sudo" <<'SH'
#!/usr/bin/env bash
# sudo [-u USER] COMMAND...: the test runs as root already.
if [ "${1:-}" = -u ]; then user=$2; shift 2; exec runuser -u "$user" -- "$@"; fi
exec "$@"
SH
cat > "$shims/scp" <<'SH'
#!/usr/bin/env bash
# scp [-r] SRC... [USER@]HOST:PATH: a copy into the other host's folders (symbolic links
# followed, as scp does).
set -euo pipefail
args=()
for a in "$@"; do case "$a" in -r|-p|-q|-rp|-pr) ;; -*) echo "scp stand-in: option $a" >&2; exit 2 ;; *) args+=("$a") ;; esac; done
dest=${args[-1]}; unset 'args[-1]'
host=${dest%%:*}; host=${host#*@}; path=${dest#*:}
hid=$(awk -v h="$host" '$1 == h { print $2 }' "$SZ_WORK/hosts.map")
[ -n "$hid" ] || { echo "scp: $host: name not known" >&2; exit 1; }
case "$path" in
  /root/*|/root) base="$SZ_WORK/$hid/root${path#/root}" ;;
  /etc/*) base="$SZ_WORK/$hid/etc${path#/etc}" ;;
  /var/lib/*) base="$SZ_WORK/$hid/varlib${path#/var/lib}" ;;
  *) echo "scp stand-in: $path is outside the host's own folders" >&2; exit 1 ;;
esac
cp -rL --preserve=mode "${args[@]}" "$base"
SH
cat > "$shims/systemctl" <<'SH'
#!/usr/bin/env bash
# systemctl daemon-reload | enable [--now] UNIT... | start|stop|restart UNIT...: starts a
# unit's ExecStart as its User= (Type=oneshot: waits for it), without systemd's sandboxing.
set -euo pipefail
run="$SZ_WORK/$SZ_HOST/run"
unitfile() { local u=$1; case "$u" in *.service|*.timer) ;; *) u=$u.service ;; esac; echo "/etc/systemd/system/$u"; }
key() { sed -n "s/^$1=//p" "$2"; }
start() {
  local f; f=$(unitfile "$1"); local name; name=$(basename "$f")
  [ -f "$f" ] || { echo "Unit $name not found." >&2; exit 5; }
  case "$name" in *.timer) echo "$name: enabled (the test starts its service itself)"; return ;; esac
  local user exec type; user=$(key User "$f"); exec=$(key ExecStart "$f"); type=$(key Type "$f")
  local envs=(); while IFS= read -r e; do envs+=("$e"); done < <(key Environment "$f")
  for d in $(key StateDirectory "$f"); do
    [ -d "/var/lib/$d" ] || install -d -o "$user" -g "$user" -m 0700 "/var/lib/$d"
  done
  if [ "$type" = oneshot ]; then
    # shellcheck disable=SC2086
    (cd / && runuser -u "$user" -- env "${envs[@]}" $exec) 2>&1 | tee -a "$run/$name.log"
    return "${PIPESTATUS[0]}"
  fi
  # shellcheck disable=SC2086
  (cd / && exec setsid runuser -u "$user" -- env "${envs[@]}" $exec >> "$run/$name.log" 2>&1 < /dev/null) &
  echo $! > "$run/$name.pid"
  sleep 1
  kill -0 "$(cat "$run/$name.pid")" 2>/dev/null || { echo "$name failed to start:" >&2; tail -n 20 "$run/$name.log" >&2; exit 1; }
}
stop() {
  local f; f=$(unitfile "$1"); local name; name=$(basename "$f")
  [ -f "$run/$name.pid" ] || return 0
  local pid; pid=$(cat "$run/$name.pid"); rm -f "$run/$name.pid"
  pkill -TERM -s "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do pgrep -s "$pid" >/dev/null 2>&1 || return 0; sleep 0.1; done
  echo "$name did not stop" >&2; exit 1
}
cmd=${1:?}; shift
case "$cmd" in
  daemon-reload) ;;
  enable) now=0; units=(); for a in "$@"; do [ "$a" = --now ] && now=1 || units+=("$a"); done
          [ $now -eq 1 ] && for u in "${units[@]}"; do start "$u"; done ;;
  start) for u in "$@"; do start "$u"; done ;;
  stop) for u in "$@"; do stop "$u"; done ;;
  restart) for u in "$@"; do stop "$u"; start "$u"; done ;;
  *) echo "systemctl stand-in: $cmd not supported" >&2; exit 2 ;;
esac
SH
cat > "$shims/journalctl" <<'SH'
#!/usr/bin/env bash
# journalctl -u UNIT [...]: the unit's output.
u=""; while [ $# -gt 0 ]; do [ "$1" = -u ] && { u=$2; shift; }; shift; done
case "$u" in *.service) ;; *) u=$u.service ;; esac
tail -n 30 "$SZ_WORK/$SZ_HOST/run/$u.log" 2>/dev/null || echo "-- No entries --"
SH
chmod 755 "$shims"/*
# Enters a host: its mounts, the stand-ins first in PATH, the repository as working folder.
# The repository and the build folder may lie in a folder the host's own replaces (a clone
# under /root, as on a fresh machine): they are held at a spare mount point first and put
# back at their own paths after the host's folders are in place.
cat > "$work/enter.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
h=$1; shift
keep=(repo "$SZ_REPO" build "$SAMENZICHT_BUILD_DIR")
for ((i = 0; i < ${#keep[@]}; i += 2)); do
  mount --bind "${keep[i + 1]}" "$SZ_WORK/keep/${keep[i]}"
done
mount --bind "$SZ_WORK/$h/etc" /etc
mount --bind "$SZ_WORK/$h/opt" /opt
mount --bind "$SZ_WORK/$h/root" /root
mount --bind "$SZ_WORK/$h/varlib" /var/lib
mkdir -p /var/backups 2>/dev/null || true
mount --bind "$SZ_WORK/$h/backups" /var/backups
for ((i = 0; i < ${#keep[@]}; i += 2)); do
  d=${keep[i + 1]}
  if [ "$(stat -c %d:%i "$d" 2>/dev/null)" != "$(stat -c %d:%i "$SZ_WORK/keep/${keep[i]}")" ]; then
    mkdir -p "$d"
    mount --bind "$SZ_WORK/keep/${keep[i]}" "$d"
  fi
done
export SZ_HOST=$h HOME=/root PATH="$SZ_WORK/shims:$PATH"
cd "$SZ_REPO"
exec "$@"
SH
export SZ_WORK=$work SZ_REPO=$repo SAMENZICHT_BUILD_DIR=$build
on() { local h=$1; shift; ip netns exec "$(ns "$h")" unshare --mount --propagation private -- bash "$work/enter.sh" "$h" "$@"; }

# --- the agencies' exports (the case systems' part) -----------------------------------------
"$build/simulator/simulator" --out "$work/sim" --persons 300 --agencies 2 --noise none --seed 11 >/dev/null
cp "$work/sim/police.csv" "$work/police-nn/root/export.csv"
cp "$work/sim/youth_care.csv" "$work/jeugdzorg/root/export.csv"
want_signals=$(sed -n 's/.*"records": \([0-9]*\),.*/\1/p' "$work/sim/summary.json" | head -n 1)
want_persons=$(sed -n 's/.*"persons_signalled": \([0-9]*\),.*/\1/p' "$work/sim/summary.json")

exact() {  # prints "persons signals" as stored on the aggregator host
  on agg runuser -u samenzicht -- /opt/samenzicht/bin/aggregator exact-totals \
    --config /etc/samenzicht/aggregator.textproto --format csv 2>/dev/null |
    awk -F, 'NR==1 { for (i=1;i<=NF;i++) col[$i]=i; next } { print $col["persons"], $col["signals"] }' | tail -n 1
}
check_truth() {
  local got; got=$(exact)
  [ "$got" = "$want_persons $want_signals" ] ||
    fail "$1: stored persons/signals '$got', ground truth '$want_persons $want_signals'"
  echo "ok: $1: the stored reports equal the ground truth ($want_persons persons, $want_signals signals)"
}

epoch_seen=1
check_epoch() {  # WHERE: a rotation is complete: the epoch in force went up, no report is below
                 # it, and the stored counts still equal the ground truth
  local st e
  st=$(on agg runuser -u samenzicht -- /opt/samenzicht/bin/aggregator key-status \
         --config /etc/samenzicht/aggregator.textproto 2>&1) || fail "key-status failed: $st"
  e=$(echo "$st" | sed -n 's/^key epoch in force: \([0-9]*\)$/\1/p')
  [ -n "$e" ] && [ "$e" -gt "$epoch_seen" ] ||
    fail "after $1: key epoch in force '$e', expected more than $epoch_seen"
  grep -qx "reports below epoch $e: 0 (with tokens: 0)" <<< "$st" ||
    fail "after $1: reports below epoch $e remain: $(echo "$st" | tail -n 1)"
  epoch_seen=$e
  echo "ok: every stored report carries epoch $e tokens"
  local a last n
  for a in "${agencies[@]}"; do  # each agency's last acknowledgement names its replaced reports
    last=$(on "$a" runuser -u samenzicht -- /opt/samenzicht/bin/agency-node sent \
             --config /etc/samenzicht/node.textproto --format csv | tail -n 1)
    n=$(grep -c . "$work/sim/$( [ "$a" = police-nn ] && echo police || echo youth_care ).csv")
    case "$last" in
      *"$((n - 1)) report(s) already stored under an older key epoch now carry epoch $e tokens"*) ;;
      *) fail "after $1: $a's last acknowledgement does not name its $((n - 1)) replaced reports: $last" ;;
    esac
    [ "${last##*,}" = "$((n - 1))" ] ||
      fail "after $1: $a's last acknowledgement counts ${last##*,} reports under the new epoch (column rekeyed), not $((n - 1)): $last"
  done
  check_truth "after the move to epoch $e"
}
# The new release's profile (section 7a installs the release on every host first): the
# installed copy beside the program, on every host, with the next version number; the test
# does not build a second release.
new_profile=""
new_release() {
  local h f v
  for h in "${hosts[@]}"; do
    # A host installed later (the second key service, section 7c) is not there yet.
    [ -d "$work/$h/opt/samenzicht/bin" ] || continue
    f="$work/$h/opt/samenzicht/share/doc/samenzicht/profile.textproto"
    [ -f "$f" ] || fail "no installed profile on ${fqdn[$h]}"
    v=$(sed -n 's/^version: \([0-9]*\)$/\1/p' "$f")
    sed -i "s/^version: $v\$/version: $((v + 1))/" "$f"
  done
  new_profile=$f
  echo "--- the new release's profile (version $((v + 1))) installed beside the program on every host"
}

# The switch-over month of a rotation has begun (the weeks given to the agencies pass): the
# aggregator's configuration names the current month, so `key-retire` may run.
retire_checks=0
switchover_begun() {
  local f="$work/agg/etc/samenzicht/aggregator.textproto" m
  grep -q '^key_switchover_month:' "$f" || fail "switchover-begun: the aggregator's configuration names no key_switchover_month"
  m=$(date -u +%Y%m)
  sed -i "s/^key_switchover_month: .*/key_switchover_month: $m/" "$f"
  echo "--- the switch-over month has begun (key_switchover_month: $m on ${fqdn[agg]})"
}
check_retired() {  # WHERE: key-retire ran and the configuration holds only the epoch in force
  local f="$work/agg/etc/samenzicht/aggregator.textproto" n st
  ! grep -qE '^(previous_key_epoch|key_switchover_month):' "$f" ||
    fail "after $1: the aggregator's configuration still names $(grep -E '^(previous_key_epoch|key_switchover_month):' "$f" | tr '\n' ' ')"
  n=$(sqlite3 -readonly "$work/agg/varlib/samenzicht-aggregator/aggregator.db" \
        "SELECT count(*) FROM audit WHERE event = 'key_epoch_retired'")
  [ "$n" -ge 1 ] || fail "after $1: no key_epoch_retired entry in the aggregator's trail"
  st=$(on agg runuser -u samenzicht -- /opt/samenzicht/bin/aggregator key-status \
         --config /etc/samenzicht/aggregator.textproto 2>&1) || fail "key-status failed: $st"
  grep -qx "key epoch in force: $epoch_seen" <<< "$st" || fail "after $1: $(echo "$st" | head -n 1)"
  grep -qx "reports below epoch $epoch_seen: 0 (with tokens: 0)" <<< "$st" ||
    fail "after $1: reports below epoch $epoch_seen remain: $(echo "$st" | tail -n 1)"
  echo "ok: epochs below $epoch_seen retired ($n key_epoch_retired entr$([ "$n" = 1 ] && echo y || echo ies) in the trail); the configuration names only key_epoch $epoch_seen"
  check_truth "after key-retire"
}

# --- the guide's blocks ---------------------------------------------------------------------
mkdir -p "$work/blocks"
# Each fenced block right after a marker line, into blocks/NNN with the marker as line 1. A
# marker and its block may be indented (inside a numbered step): the fence's indentation is
# taken off every line of the block.
awk -v out="$work/blocks" '
  inblock && /^[[:space:]]*```[[:space:]]*$/ { inblock = 0; close(f); next }
  inblock { line = $0; for (i = 0; i < ind && substr(line, 1, 1) == " "; i++) line = substr(line, 2)
            print line > f; next }
  pending && /^[[:space:]]*```[[:space:]]*$/ { n++; f = sprintf("%s/%03d", out, n); inblock = 1
                                   ind = index($0, "`") - 1
                                   print "# " marker " (docs/operations.md line " NR + 1 ")" > f; pending = 0; next }
  { pending = 0 }
  /^[[:space:]]*<!-- test: .* -->$/ { m = $0; sub(/^[[:space:]]*/, "", m)
                                      marker = substr(m, 12, length(m) - 15); pending = 1 }
' "$guide"
blocks=("$work"/blocks/*)
[ "${#blocks[@]}" -ge 20 ] || fail "only ${#blocks[@]} marked blocks in $guide"
run_block() {  # HOST FILE [AGENCY]: the block, with police-nn replaced by AGENCY
  local h=$1 f=$2 a=${3:-police-nn} b="$work/run.$1.sh"
  sed "s/police-nn/$a/g" "$f" > "$b"
  echo "--- $(head -n 1 "$b" | sed 's/^# //') on ${fqdn[$h]} (at $SECONDS s)"
  if ! on "$h" bash -eo pipefail "$b" > "$work/out.txt" 2>&1; then
    sed 's/^/    /' "$work/out.txt"
    fail "block at $(head -n 1 "$f" | sed 's/.*(//; s/)//') failed on ${fqdn[$h]}"
  fi
  sed 's/^/    /' "$work/out.txt" | head -n 12
}
ran=0
for f in "${blocks[@]}"; do
  read -r -a words < <(head -n 1 "$f" | sed 's/^# //; s/ (docs.*//')
  role=${words[0]}; rest=("${words[@]:1}")
  only="" per=0 wait=0 truth=0 epoch=0 retired=0
  for w in "${rest[@]}"; do
    case "$w" in
      per-agency) per=1 ;; wait-delivery) wait=1 ;; check-truth) truth=1 ;; check-epoch) epoch=1 ;;
      new-release) new_release ;;
      switchover-begun) switchover_begun; retired=1 ;;
      police-nn|jeugdzorg) only=$w ;;
      *) fail "unknown marker word '$w' in $(head -n 1 "$f")" ;;
    esac
  done
  case "$role" in
    admin) if [ $per -eq 1 ]; then for a in "${agencies[@]}"; do run_block admin "$f" "$a"; done
           else run_block admin "$f"; fi ;;
    aggregator) run_block agg "$f" ;;
    analyst) run_block analyst "$f" ;;
    keyholder) run_block keyholder "$f" ;;
    keyholder2) run_block keyholder2 "$f" ;;
    agency) for a in "${agencies[@]}"; do
              [ -z "$only" ] || [ "$only" = "$a" ] && run_block "$a" "$f" "$a"
            done ;;
    *) fail "unknown host '$role' in a marker of $guide" ;;
  esac
  ran=$((ran + 1))
  if [ $wait -eq 1 ]; then
    for _ in $(seq 1 120); do [ "$(exact)" = "$want_persons $want_signals" ] && break; sleep 0.5; done
    check_truth "after the daemons' delivery"
  fi
  if [ $truth -eq 1 ]; then check_truth "after the block at $(head -n 1 "$f" | sed 's/.*(//; s/)//')"; fi
  if [ $epoch -eq 1 ]; then check_epoch "$(head -n 1 "$f" | sed 's/.*(//; s/)//')"; fi
  if [ $retired -eq 1 ]; then check_retired "$(head -n 1 "$f" | sed 's/.*(//; s/)//')"; retire_checks=$((retire_checks + 1)); fi
done
echo "ok: ran the $ran marked blocks of the guide"

# --- what the guide's steps must have achieved -----------------------------------------------
check_truth "at the end of the guide"
if [ -n "$new_profile" ]; then
  for h in agg "${agencies[@]}"; do
    cmp -s "$new_profile" "$work/$h/etc/samenzicht/profile.textproto" ||
      fail "${fqdn[$h]} does not use the new release's profile after the profile change"
  done
  echo "ok: the aggregator and both agency hosts use the new profile ($(grep '^version:' "$new_profile"))"
fi
# After the move to the key service (section 7b): no agency host can make a token alone.
if [ -f "$work/keyholder/etc/samenzicht/keyholder.textproto" ]; then
  for a in "${agencies[@]}"; do
    cfg="$work/$a/etc/samenzicht/node.textproto"
    ! grep -q '^hashing_key_file' "$cfg" || fail "$a's node.textproto still names a hashing key: $(grep '^hashing_key_file' "$cfg")"
    grep -qx 'keyholder_config_file: "keyholder-client.textproto"' "$cfg" || fail "$a's node.textproto does not name the key service"
    left=$(find "$work/$a/etc/samenzicht/keys" "$work/$a/root" -maxdepth 1 -type f \( -name 'hashing*.key' -o -name '*.sealed' -o -name box.key \) | sed "s|$work/$a||")
    [ -z "$left" ] || fail "$a still holds key material that makes tokens offline: $left"
    grep -q 'tokens from the key service' "$work/$a/run/samenzicht-agency-node.service.log" ||
      fail "$a's daemon did not log that it makes tokens through the key service"
  done
  echo "ok: no agency host holds a hashing key, a sealed key or a box key; both daemons use the key service"
  [ "$retire_checks" -ge 1 ] || fail "the guide's move to the key service retires no old epoch (no switchover-begun block)"
  left=$(find "$work/admin/root" -maxdepth 2 -type f \( -name 'shared-epoch*.key' -o -name 'hashing*.key' -o -name '*.sealed' \) | sed "s|$work/admin||")
  [ -z "$left" ] || fail "the administrator still holds shared hashing keys or sealed copies: $left"
  echo "ok: the administrator holds no shared hashing key and no sealed copy after the old epochs were retired"
  report=$(on keyholder runuser -u samenzicht -- /opt/samenzicht/bin/keyholder audit report \
             --data-dir /var/lib/samenzicht-keyholder --public-key "$(cat "$work/keyholder/root/keyholder-audit.pub")" 2>&1) ||
    fail "the key service's trail does not verify: $report"
  for a in "${agencies[@]}"; do
    n=$(grep -c . "$work/sim/$( [ "$a" = police-nn ] && echo police || echo youth_care ).csv")
    ev=$(echo "$report" | awk -F, -v a="$a" '$2 == a { s += $4 } END { print s + 0 }')
    # pseudonymise and submit each evaluated every record's token inputs (several a record)
    [ "$ev" -ge $((2 * (n - 1))) ] || fail "the key service's trail counts $ev evaluations for $a, fewer than its $((n - 1)) records twice"
    echo "ok: the key service's trail verifies and counts $ev evaluations for $a ($((n - 1)) records, evaluated by pseudonymise and submit)"
  done
fi
# After the move to two key services (section 7c): every node calls both, each service
# evaluated every call of the epoch in force once, and the first keeps no older key.
if [ -f "$work/keyholder2/etc/samenzicht/keyholder.textproto" ]; then
  for a in "${agencies[@]}"; do
    c="$work/$a/etc/samenzicht/keyholder-client.textproto"
    grep -qx 'second { address: "keyholder2.regio.example:7444" }' "$c" || fail "$a's keyholder-client.textproto names no second key service"
    grep -qx "epoch: $epoch_seen" "$c" || fail "$a's keyholder-client.textproto is not at epoch $epoch_seen: $(grep '^epoch' "$c")"
  done
  for k in keyholder keyholder2; do
    n=$(grep -c '^keys ' "$work/$k/etc/samenzicht/keyholder.textproto")
    [ "$n" = 1 ] || fail "${fqdn[$k]} serves $n keys after the retirement, not one"
    left=$(find "$work/$k/etc/samenzicht/keys" -name 'oprf-epoch*.key' ! -name "oprf-epoch$epoch_seen.key" | sed "s|$work/$k||")
    [ -z "$left" ] || fail "${fqdn[$k]} still holds an OPRF key of a retired epoch: $left"
  done
  report2=$(on keyholder2 runuser -u samenzicht -- /opt/samenzicht/bin/keyholder audit report \
              --data-dir /var/lib/samenzicht-keyholder --public-key "$(cat "$work/keyholder2/root/keyholder-audit.pub")" 2>&1) ||
    fail "the second key service's trail does not verify: $report2"
  ! cmp -s "$work/keyholder/root/keyholder-audit.pub" "$work/keyholder2/root/keyholder-audit.pub" ||
    fail "the two key services sign their trails with the same key"
  old_epochs=$(echo "$report2" | awk -F, -v e="$epoch_seen" 'NR > 2 && $3 != "" && $3 != e { print $3 }' | sort -u | tr '\n' ' ')
  [ -z "$old_epochs" ] || fail "the second key service evaluated for epochs it has no share of: $old_epochs"
  for a in "${agencies[@]}"; do
    n=$(grep -c . "$work/sim/$( [ "$a" = police-nn ] && echo police || echo youth_care ).csv")
    ev1=$(echo "$report" | awk -F, -v a="$a" -v e="$epoch_seen" '$2 == a && $3 == e { s += $4 } END { print s + 0 }')
    ev2=$(echo "$report2" | awk -F, -v a="$a" -v e="$epoch_seen" '$2 == a && $3 == e { s += $4 } END { print s + 0 }')
    [ "$ev2" -ge $((n - 1)) ] || fail "the second key service counts $ev2 evaluations of epoch $epoch_seen for $a, fewer than its $((n - 1)) records"
    [ "$ev1" = "$ev2" ] || fail "$a: $ev1 evaluations of epoch $epoch_seen at the first key service, $ev2 at the second"
    echo "ok: both key services' trails verify and count $ev1 evaluations of epoch $epoch_seen for $a (2-of-2)"
  done
  # A node that calls the second service directly, with its own certificate, gets nothing:
  # without the first service's receipt it is refused, and the refusal is in the second's trail.
  d="$work/police-nn/root/direct"; mkdir -p "$d"
  cp "$work/police-nn/etc/samenzicht/"{ca.crt,police-nn.crt} "$d/"
  cp "$work/police-nn/etc/samenzicht/keys/police-nn.key" "$d/node.key"; chmod 600 "$d/node.key"
  printf '%s\n' 'address: "keyholder2.regio.example:7444"' "epoch: $epoch_seen" \
    'tls { ca_cert_file: "ca.crt" cert_file: "police-nn.crt" key_file: "node.key" }' > "$d/keyholder-client.textproto"
  head -n 4 "$work/sim/police.csv" > "$d/small.csv"
  if on police-nn /opt/samenzicht/bin/agency-node pseudonymise --keyholder /root/direct/keyholder-client.textproto \
       --in /root/direct/small.csv --out /root/direct/out.jsonl > "$d/log" 2>&1; then
    fail "police-nn's call to the second key service alone was evaluated: $(tail -n 3 "$d/log")"
  fi
  grep -qF "this key service is the second of two" "$d/log" && grep -qF "the call carries none" "$d/log" ||
    fail "police-nn's call to the second key service alone was not refused for want of a receipt: $(cat "$d/log")"
  [ ! -e "$d/out.jsonl" ] || fail "pseudonymise wrote reports with the second key service alone"
  n=$(sqlite3 -readonly "$work/keyholder2/varlib/samenzicht-keyholder/keyholder.db" \
        "SELECT count(*) FROM audit WHERE event = 'receipt_refused' AND actor = 'police-nn'")
  [ "$n" -ge 1 ] || fail "the second key service's trail does not record police-nn's direct call"
  echo "ok: police-nn calling the second key service directly is refused ($(grep -o 'the call carries none' "$d/log" | head -n 1)) and recorded in its trail"
fi
ls "$work/agg/backups/samenzicht/"aggregator-*.db >/dev/null 2>&1 || fail "no backup in /var/backups/samenzicht"
# The backup check of section 6 (restore --config into a scratch folder) is in the trail the
# aggregator wrote until the restore (the folder moved aside), with its outcome; the restore
# itself is in the restored trail (written at the first start on it).
trail_restores() { sqlite3 -readonly "$1" "SELECT details FROM audit WHERE event = 'restore'"; }
got=$(trail_restores "$work/agg/varlib/samenzicht-aggregator.damaged/aggregator.db")
echo "$got" | grep -F '"data_dir":"/var/lib/samenzicht-aggregator.check"' | grep -qF '"outcome":"OK"' ||
  fail "the backup check (restore --config) is not in the live trail: '$got'"
echo "ok: the backup check with restore --config is in the live trail"
got=$(trail_restores "$work/agg/varlib/samenzicht-aggregator/aggregator.db")
[ -n "$got" ] || fail "the restore is not in the restored trail"
echo "ok: the restore is in the restored trail"
echo "ok: the timer's backup service wrote $(basename "$(ls "$work/agg/backups/samenzicht/"aggregator-*.db | tail -n 1)")"

# The hour passes (a stand-in, as for the switch-over month): the guide's moves to one key
# service and then to two ran within the same hour here, months apart in a deployment, and
# with the default limits back in force police-nn has used more than an hour's evaluations
# at the first service. Both services are restarted with the migration's limits, so that
# the checks below are not refused for the hour.
for k in keyholder keyholder2; do
  c="$work/$k/etc/samenzicht/keyholder.textproto"
  [ -f "$c" ] || continue
  printf '%s\n' 'max_evaluations_per_node_per_hour: 200000' 'max_evaluations_per_node_per_day: 1000000' >> "$c"
  on "$k" systemctl restart samenzicht-keyholder >/dev/null || fail "could not restart the key service on ${fqdn[$k]}"
  echo "--- the hour has passed on ${fqdn[$k]} (restarted with the migration's limits)"
done

# The renewed police-nn: its old certificate (kept by samenzicht-pki in retired/) is refused,
# the new one accepted. A root-owned copy of the node's keys and a small export on its host.
old=$(ls "$work/admin/root/samenzicht-ca/retired/"police-nn.*.crt | head -n 1)
[ -f "$old" ] || fail "samenzicht-pki renew kept no old certificate"
t="$work/police-nn/root/t"; mkdir -p "$t"
hk=$(sed -n 's|^hashing_key_file: "\(.*\)"$|\1|p' "$work/police-nn/etc/samenzicht/node.textproto")
[ -z "$hk" ] || cp "$work/police-nn/etc/samenzicht/$hk" "$t/hashing.key"
cp "$work/police-nn/etc/samenzicht/keys/signing.key" "$t/"
cp "$work/police-nn/etc/samenzicht/"{ca.crt,profile.textproto} "$t/"
cp -r "$work/police-nn/etc/samenzicht/crl" "$t/"
head -n 4 "$work/sim/police.csv" > "$t/small.csv"
chmod 600 "$t"/*.key
submit_with() {  # CRT KEY: exit status of a submit from police-nn's host with that certificate
  cp "$1" "$t/client.crt"; cp "$2" "$t/client.key"; chmod 600 "$t/client.key"
  sed -e 's|key_file: "keys/police-nn.key"|key_file: "client.key"|; s|cert_file: "police-nn.crt"|cert_file: "client.crt"|' \
      -e 's|^hashing_key_file: .*|hashing_key_file: "hashing.key"|; s|keys/signing.key|signing.key|' \
      -e 's|state_dir: .*|state_dir: "/root/t/state"|; /import_dir/d' \
      "$work/police-nn/etc/samenzicht/node.textproto" > "$t/node.textproto"
  # A node on the key service shows the same certificate to the key service.
  if [ -f "$work/police-nn/etc/samenzicht/keyholder-client.textproto" ]; then
    sed -e 's|key_file: "keys/police-nn.key"|key_file: "client.key"|; s|cert_file: "police-nn.crt"|cert_file: "client.crt"|' \
        "$work/police-nn/etc/samenzicht/keyholder-client.textproto" > "$t/keyholder-client.textproto"
  fi
  rm -rf "$t/state"
  on police-nn /opt/samenzicht/bin/agency-node submit --config /root/t/node.textproto --in /root/t/small.csv > "$t/out" 2>&1
}
if submit_with "$old" "${old%.crt}.key"; then fail "the revoked (renewed) certificate of police-nn was accepted"; fi
echo "ok: police-nn's old certificate is refused after the renewal ($(tail -n 1 "$t/out"))"
submit_with "$work/police-nn/etc/samenzicht/police-nn.crt" "$work/police-nn/etc/samenzicht/keys/police-nn.key" ||
  fail "police-nn's new certificate was refused: $(tail -n 3 "$t/out")"
echo "ok: police-nn's new certificate is accepted"
check_truth "after the renewal (a resent record counts once)"

# After the retirement of section 7b: a node still holding a shared key of the retired epoch
# (a host left out of the move) has its batch refused with FAILED_PRECONDITION, and nothing
# of it is stored. The guide destroyed the real key; one made here with the same epoch number
# stands in for it (the aggregator sees only the epoch a batch declares).
if [ "$retire_checks" -ge 1 ]; then
  old_epoch=$((epoch_seen - 1))
  on police-nn /opt/samenzicht/bin/agency-node keygen --out /root/t/retired.key --epoch "$old_epoch" >/dev/null 2>&1 ||
    fail "could not make a key of epoch $old_epoch"
  sed -e '/^hashing_key_file:/d; /^keyholder_config_file:/d' "$t/node.textproto" > "$t/retired.textproto"
  echo 'hashing_key_file: "retired.key"' >> "$t/retired.textproto"
  rm -rf "$t/state"
  if on police-nn /opt/samenzicht/bin/agency-node submit --config /root/t/retired.textproto --in /root/t/small.csv > "$t/out" 2>&1; then
    fail "a batch under the retired key epoch $old_epoch was accepted: $(tail -n 5 "$t/out")"
  fi
  grep -qF "FAILED_PRECONDITION: the batch was made with key epoch $old_epoch; this aggregator accepts epoch $epoch_seen" "$t/out" ||
    fail "a batch under the retired key epoch $old_epoch was not refused as made with that epoch: $(cat "$t/out")"
  echo "ok: a batch under the retired key epoch $old_epoch is refused ($(grep -o "FAILED_PRECONDITION: [^)]*" "$t/out" | head -n 1))"
  check_truth "after a batch under the retired epoch (nothing of it stored)"
fi
echo "1 passed, 0 failed"
