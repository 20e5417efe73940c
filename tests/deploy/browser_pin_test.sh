#!/usr/bin/env bash
# The browser tests run on the Node.js that Debian 12 ships (nodejs 18.20), which is what
# deploy/install-deps.sh installs on a machine without Node.js. A machine with a newer
# Node.js would not notice a playwright-core that needs one, so this checks the pin itself:
# every package.json under tests/ that names playwright-core pins one exact version, its
# package-lock.json locks that version, and the Node.js versions the locked package declares
# it supports ("engines", copied into the lock by npm from the registry) include 18.
#
#   browser_pin_test.sh        (needs nothing but the source tree)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
debian_node_major=18   # Debian 12 (bookworm): nodejs 18.20.4+dfsg-1~deb12u3
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
n=0
while IFS= read -r pkg; do
  dir=$(dirname "$pkg"); rel=${dir#"$repo"/}
  pinned=$(sed -n 's/^ *"playwright-core": "\([^"]*\)".*/\1/p' "$pkg")
  [[ $pinned =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "$rel/package.json pins playwright-core '$pinned', not one exact version"
  [ -f "$dir/package-lock.json" ] || fail "$rel has no package-lock.json"
  # The lock's entry "node_modules/playwright-core": its version and its engines.node.
  read -r locked engines < <(awk '
    /"node_modules\/playwright-core": \{/ { on = 1; next }
    on && /^    \}/ { on = 0 }
    on && /^      "version":/ { gsub(/[",]/, "", $2); v = $2 }
    on && /"node":/ { sub(/^[^:]*: *"/, ""); sub(/".*$/, ""); e = $0 }
    END { print (v == "" ? "-" : v), (e == "" ? "-" : e) }' "$dir/package-lock.json")
  [ "$locked" = "$pinned" ] || fail "$rel/package-lock.json locks playwright-core $locked, package.json pins $pinned"
  [[ $engines =~ ^\>=\ *([0-9]+)(\.[0-9]+)*$ ]] ||
    fail "$rel/package-lock.json: playwright-core $locked declares node '$engines', which this check cannot read (expected >=N)"
  min=${BASH_REMATCH[1]}
  [ "$min" -le $debian_node_major ] ||
    fail "$rel: playwright-core $locked requires Node.js $min or newer (engines '$engines'); Debian 12 ships Node.js $debian_node_major: pin a version whose engines admit $debian_node_major"
  echo "ok: $rel pins playwright-core $pinned (locked), engines node '$engines' admits Debian 12's Node.js $debian_node_major"
  n=$((n + 1))
done < <(grep -l '"playwright-core"' "$repo"/tests/*/package.json "$repo"/tests/*/*/package.json 2>/dev/null)
[ $n -ge 2 ] || fail "found $n package.json files pinning playwright-core under tests/, expected the intake page's and the dashboard's"
echo "1 passed, 0 failed"
