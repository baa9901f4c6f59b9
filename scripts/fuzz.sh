#!/usr/bin/env bash
# Builds coopgen's libFuzzer targets (build-fuzz/: clang, ASan + UBSan, coverage on every library)
# and runs each, one target per core at a time: first its regression inputs (tests/fuzz/regressions/
# TARGET: every crash a fuzzer ever found, kept once fixed), then SECONDS of fuzzing from its seed
# corpus (tests/fuzz/corpus/TARGET, copied to build-fuzz/corpus/TARGET, where new inputs accumulate
# between runs), or with `ci` in place of SECONDS CI's count of inputs per target (below).
#   bash scripts/fuzz.sh [SECONDS (600) | ci] [TARGETS (all: safetensors config trainer_state gpt2_config text scores)]
# Exit 1 on a finding: the input is left in build-fuzz/findings/TARGET/; fix it and add the input to
# tests/fuzz/regressions/TARGET/. CI runs `fuzz.sh ci` with its memcheck build (scripts/test.sh).
set -uo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
seconds=${1:-600}
targets=${2:-"safetensors config trainer_state gpt2_config text scores"}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is not installed (Debian: clang, libclang-rt-14-dev)"; exit 1; }
# FUZZ_BUILD: a build folder configured with COOPGEN_FUZZ=ON already (scripts/test.sh's memcheck
# build, whose libraries are the ones its tests ran); by default build-fuzz/, optimised.
build=${FUZZ_BUILD:-build-fuzz}
if [ "$build" = build-fuzz ]; then
  cmake -S . -B build-fuzz -DCOOPGEN_FUZZ=ON -DCOOPGEN_CUDA=OFF -DCOOPGEN_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++ >/dev/null || exit 1
fi
# CI's budget: as many inputs as 30 s of the memcheck build's targets ran on a quiet 2-core machine
# (CI of baabc7e, 2026-12-07; fuzz_text's rate varies fivefold from run to run, 8k-39k). A count,
# not a time, so that the fuzzers check as much when scripts/test.sh runs them beside other steps;
# the time limit only guards against a stalled run.
declare -A ci_inputs=([safetensors]=700000 [config]=55000 [trainer_state]=375000 [gpt2_config]=390000 [text]=25000
                      [scores]=6500)
if [ "$seconds" = ci ]; then
  for t in $targets; do [ -n "${ci_inputs[$t]:-}" ] || { echo "fuzz: no CI budget for target '$t'"; exit 1; }; done
  limit=(-max_total_time=600)
else
  [[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number or 'ci', not '$seconds'"; exit 1; }
  limit=(-max_total_time="$seconds")
fi
jobs=$(nproc)
cmake --build "$build" -j"$jobs" $(for t in $targets; do printf -- "--target fuzz_%s " "$t"; done) >/dev/null || {
  cmake --build "$build" -j1 2>&1 | grep -m20 -E "error"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The files a target writes (fuzz_text's corpus files) go under the build folder, not into /tmp.
export TMPDIR=$(cd "$build" && pwd)/fuzz-scratch
mkdir -p "$TMPDIR"
fuzz_one() {  # TARGET: its regression inputs, then its fuzzing; prints one line, exit 1 on a finding
  local t=$1 bin=$build/tests/fuzz/fuzz_$1 corpus=$build/corpus/$1 findings=$build/findings/$1 f
  local budget=("${limit[@]}")
  [ "$seconds" = ci ] && budget+=(-runs="${ci_inputs[$t]}")
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/corpus/$t/* "$corpus"/ 2>/dev/null
  local inputs=()
  for f in tests/fuzz/regressions/$t/*; do inputs+=("$f"); done  # (.keep is hidden)
  if [ ${#inputs[@]} -gt 0 ] && ! "$bin" "${inputs[@]}" > "$findings/regressions.log" 2>&1; then
    echo "fuzz_$t: a regression input fails again ($findings/regressions.log)"; return 1
  fi
  local t0=$SECONDS
  if "$bin" "${budget[@]}" -timeout=10 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="$findings/" "$corpus" > "$findings/run.log" 2>&1; then
    local ran; ran=$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$findings/run.log" | cut -d' ' -f2)
    echo "fuzz_$t: $((SECONDS - t0)) s, $ran inputs, ${#inputs[@]} regression inputs, no finding"
    if [ "$seconds" = ci ] && [ "${ran:-0}" -lt "${ci_inputs[$t]}" ]; then
      echo "fuzz_$t: only $ran of CI's ${ci_inputs[$t]} inputs before the time limit"; return 1
    fi
  else
    echo "fuzz_$t: FINDING ($findings/run.log):"; grep -m3 -E "ERROR|runtime error|SUMMARY|deadly" "$findings/run.log"; return 1
  fi
}
# One target per core at a time (each fuzzer is one process on one core).
failed=0 running=0
for t in $targets; do
  if [ "$running" -ge "$jobs" ]; then wait -n || failed=1; running=$((running - 1)); fi
  fuzz_one "$t" & running=$((running + 1))
done
while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
exit $failed
