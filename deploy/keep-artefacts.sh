#!/usr/bin/env bash
# Keeps the browser tests' screenshots of a build tree: copies every *.png below BUILD/tests
# to DEST, under the same relative path (DEST is emptied first), so that they survive the
# build tree (deploy/test.sh deletes it on CI once its stage passed).
#
#   deploy/keep-artefacts.sh BUILD DEST
#
# Prints how many it kept. Exit codes: 0 done (also when there are none), 2 usage error.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
if [ $# -ne 2 ]; then echo "keep-artefacts.sh: takes BUILD and DEST (see --help)" >&2; exit 2; fi
build=$1; dest=$2
rm -rf "$dest"
n=0
if [ -d "$build/tests" ]; then
  while IFS= read -r -d '' f; do
    rel=${f#"$build"/}
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$f" "$dest/$rel"
    n=$((n + 1))
  done < <(find "$build/tests" -name '*.png' -type f -print0 | sort -z)
fi
echo "keep-artefacts.sh: $n screenshot(s) of the browser tests kept in $dest"
