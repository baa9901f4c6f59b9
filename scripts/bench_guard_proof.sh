#!/usr/bin/env bash
# Shows that the CI benchmark guards (ctest -L bench) pass on noise and fail on a regression:
#   1. RUNS consecutive `ctest -L bench` on the unchanged tree: every run should pass;
#   2. for every version a guarded ratio measures (the numerator of a time ratio), RUNS runs of its
#      guard with that version made 30% slower (COOPGEN_BENCH_SLOWDOWN=NAME=0.3, bench/harness.h):
#      every run should fail.
# Usage: bash scripts/bench_guard_proof.sh [BUILD_DIR (build-rel)] [RUNS (20)] [SLOWED_RUNS (RUNS)].
# Prints one line per case and a summary; exit code 1 when a clean run failed or a slowed one
# passed. Run the clean part with nothing else on the machine, as CI runs the guards (RUNS 0
# skips it; docs/perf.md, "Benchmark guards").
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-rel}
runs=${2:-20}
slowed_runs=${3:-$runs}
[ -d "$build" ] || { echo "bench_guard_proof: $build: no such build folder" >&2; exit 2; }
bad=0
clean_failed=0
for i in $(seq "$runs"); do
  if (cd "$build" && ctest -L bench --output-on-failure >"/tmp/bench_proof_clean_$i.log" 2>&1); then
    echo "clean run $i/$runs: passed"
  else
    clean_failed=$((clean_failed + 1))
    echo "clean run $i/$runs: FAILED ($(grep -h 'regression against' "/tmp/bench_proof_clean_$i.log" | head -1))"
  fi
done
[ "$runs" -eq 0 ] || echo "clean: $clean_failed of $runs runs failed"
[ "$clean_failed" -eq 0 ] || bad=1
# bench:version pairs: every version in the numerator of a guarded time ratio.
for case in sampling:plain sampling:top_k sampling:top_p sampling:top_k_top_p logprob:fused attention:op \
            train_step:mle_fused train_step:gcn; do
  bench=${case%%:*} version=${case#*:}
  passed=0
  for i in $(seq "$slowed_runs"); do
    if (cd "$build" && COOPGEN_BENCH_SLOWDOWN="$version=0.3" ctest -L bench -R "bench_${bench}_check" >/dev/null 2>&1); then
      passed=$((passed + 1))
    fi
  done
  echo "30% slower $version (bench_${bench}_check): failed $((slowed_runs - passed)) of $slowed_runs runs"
  [ "$passed" -eq 0 ] || bad=1
done
exit $bad
