#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 20) on its seed corpus in fuzz/corpus/<target>/. New interesting inputs
# go to build-fuzz/corpus/<target>/ (not the repository); a crash stops the script with the
# reproducer in build-fuzz/crashes/<target>/ — fix it, then add the file to
# fuzz/corpus/<target>/ as a regression input.
#   fuzz/run.sh            # 20 s per target
#   fuzz/run.sh 15         # CI
set -euo pipefail
seconds=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SAMENZICHT_FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=(csv_fuzz normalise_fuzz config_fuzz intake_fuzz)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}

cmake -S "$root" -B "$build" -DSAMENZICHT_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  seeds="$root/fuzz/corpus/$t"
  work="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$work" "$crashes"
  dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  echo "fuzz: $t for ${seconds}s (seeds: $(ls "$seeds" | wc -l))"
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
      "$work" "$seeds" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; reproducer in $crashes/, log $build/$t.log" >&2
    tail -40 "$build/$t.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$build/$t.log" | tail -2 || true
  fi
done
exit $status
