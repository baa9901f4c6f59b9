#!/usr/bin/env bash
# Sets up and runs every test that this machine can run:
#   1. installs missing build dependencies (Debian packages);
#   2. build/: the CUDA backend compiled by nvcc where it exists (COOPGEN_CUDA=AUTO); all tests
#      (the gpu-labelled ones report Skipped when no GPU is visible);
#   3. build-sim/: AddressSanitizer + UBSan (clang), with the CUDA kernels running on the emulator
#      (COOPGEN_SIM, needs the CUDA headers): the CPU tests and every CUDA kernel against its CPU
#      twin (memcheck), plus the emulator's own tests; not the `experiment`-labelled training
#      runs (minutes each under ASan; their code paths run in the small training tests); it also
#      builds the libFuzzer targets (step 6);
#   4. build-race/: ThreadSanitizer (clang -O1) + emulator: the sim tests again (racecheck), building
#      only the programs they run (target sim_tests);
#   5. build-simrel/: the emulator without sanitizers (optimised; clang, with the access trace
#      built in and off unless memory_report switches it on: kernels/sim/trace.h): what only an
#      optimised emulator build checks — the trace's known answers, the memory-pattern guard
#      (bench_memory_check), the launch and transfer counters, GPT-2 on the emulated device — not
#      sim_backend.*, which steps 3 and 4 ran with the sanitizers on;
#   6. the libFuzzer targets of tests/fuzz, built in step 3: their regression inputs, then a
#      bounded run each, one per core (scripts/fuzz.sh).
# Each step's wall and CPU time are printed as it ends and again in a table at the end (CTest
# prints each test's); the last line is the summary "N passed, N failed, N skipped". The everyday
# loop is much shorter: `ctest --test-dir build -L quick` (docs/architecture.md, "The everyday loop").
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# ctest -j runs one test per core: OpenBLAS's own threads would spin against the other tests'.
export OPENBLAS_NUM_THREADS=1
start=$(date +%s)
summary_passed=0; summary_failed=0; summary_skipped=0
ticks=$(getconf CLK_TCK)
cpu_now() {  # sets cpu: the CPU time (clock ticks) of this script's waited-for children and theirs
  local stat; stat=$(< /proc/$$/stat)
  read -r -a stat <<< "${stat##*) }"  # the fields after the command's name, from the state (field 3)
  cpu=$((stat[13] + stat[14]))  # fields 16 and 17: cutime, cstime
}
step_names=(); step_seconds=(); step_cpu=(); step_name=""; step_start=$start
step() {  # ends the running step (if any) and starts the one named NAME
  local now cpu; now=$(date +%s); cpu_now
  if [ -n "$step_name" ]; then
    step_names+=("$step_name"); step_seconds+=($((now - step_start))); step_cpu+=($(((cpu - step_cpu_start + ticks / 2) / ticks)))
    echo "-- $step_name: $((now - step_start)) s (CPU ${step_cpu[-1]} s)"
  fi
  step_name=$1; step_start=$now; step_cpu_start=$cpu
  [ -n "$step_name" ] && echo "== $step_name =="
}
step "install dependencies"
# COOPGEN_INSTALL_TORCH=1 (CI): PyTorch and transformers too, for the GPT-2 / BPE cross-checks.
bash scripts/install_deps.sh $([ "${COOPGEN_INSTALL_TORCH:-0}" = 1 ] && echo --with-torch) || exit 1
run_ctest() {  # build-dir, extra ctest args...
  local dir=$1; shift
  local log; log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") 2>&1 | tee "$log"
  local total failed skipped
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
  skipped=$(grep -c '(Skipped)' "$log" || true)
  [ -n "$total" ] || { total=0; failed=1; }
  summary_failed=$((summary_failed + failed))
  summary_skipped=$((summary_skipped + skipped))
  summary_passed=$((summary_passed + total - failed - skipped))
  rm -f "$log"
}

step "build (CUDA AUTO)"
# -g1: line tables only (backtraces name the line), a quarter less compile time than -g.
cmake -S . -B build -DCOOPGEN_CUDA=AUTO -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null || exit 1
cmake --build build -j"$jobs" || exit 1
step "tests"
run_ctest build

sim=OFF
[ -f "${CUDA_HOME:-/usr/local/cuda}/include/cuda_runtime.h" ] && sim=ON
# The three checking builds below compile each library's and test program's files in batches of
# eight (CMake's unity build: one compiler start and one parse of the shared headers per batch;
# files with options of their own, the kernels, stay alone): on one machine (2026-12-07) 138 -> 105 s
# for the memcheck build, 104 -> 82 s for the racecheck build. build/ above compiles one file per
# object, as a developer's build does, so a missing #include still fails there.
unity=-DCMAKE_UNITY_BUILD=ON
step "memcheck build (clang, ASan + UBSan, CUDA kernels on the emulator: $sim; the fuzzers too)"
# Debug (assertions on; -O0: the optimiser removes no access the sanitizers would check) with line
# tables only; clang (half gcc's compile time here), which also builds the libFuzzer targets from
# the same libraries (COOPGEN_FUZZ: coverage on the loaders' libraries only), so they need no build
# of their own. No benchmark is built (none runs under a sanitizer). -O1 gains nothing here
# (2026-12-07, one machine): the tests took 170 s instead of 363 s, the build 339 s instead of
# 156 s (clang compiles 2.5 times slower with ASan at -O1).
cmake -S . $unity -B build-sim -DCOOPGEN_SIM=$sim -DCOOPGEN_CUDA=OFF -DCOOPGEN_SANITIZE=ON -DCOOPGEN_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 >/dev/null || exit 1
cmake --build build-sim -j"$jobs" || exit 1
step "memcheck tests"
run_ctest build-sim -LE "experiment|bench"

if [ "$sim" = ON ]; then
  step "racecheck build (clang -O1, TSan, CUDA kernels on the emulator)"
  # -O1, ThreadSanitizer's recommended level: the emulated kernels' locals live in registers
  # instead of instrumented stack slots. On one machine (2026-12-07) the tests took 58 s instead of
  # 356 s and the build 128 s instead of 163 s (gcc -O0, all of sim_tests' former programs); a race
  # on shared or global memory is still reported (sim_catches_missing_barrier).
  cmake -S . $unity -B build-race -DCOOPGEN_SIM=ON -DCOOPGEN_SANITIZE_THREAD=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" >/dev/null || exit 1
  cmake --build build-race -j"$jobs" --target sim_tests || exit 1
  step "racecheck tests"
  run_ctest build-race -L sim -LE "experiment|bench"

  step "plain emulator build (no sanitizer; clang, access trace built in)"
  cmake -S . $unity -B build-simrel -DCOOPGEN_SIM=ON -DCOOPGEN_SIM_TRACE=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
  cmake --build build-simrel -j"$jobs" --target sim_tests sim_benches bench_sim_switch || exit 1
  step "plain emulator tests"
  run_ctest build-simrel -L sim -E '^sim_backend[.]'
  build-simrel/bench/bench_sim_switch --json build-simrel/bench_sim_switch.json
else
  echo "== no CUDA headers: the emulator builds are skipped =="
fi

if [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then
  step "static resources of the hot kernels for sm_90 (ptxas: no new stack frame or spill; docs/perf.md)"
  if python3 scripts/ptxas_report.py --nvcc "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" --jobs "$jobs" \
       --files attention.cu,attention_decode.cu,attention_mma.cu,attention_simt.cu,sampling.cu,losses.cu,layernorm.cu,adamw.cu \
       --check bench/baselines/ptxas_sm90.json > build/ptxas_report.md; then
    summary_passed=$((summary_passed + 1))
  else
    summary_failed=$((summary_failed + 1))
  fi
fi

# 30 s each at -O0 run as many inputs as 15 s of an optimised build did for five of the six targets
# (all but fuzz_scores: tests/fuzz/README.md), and cost less than that build.
step "fuzzers (the memcheck build's: regression inputs, then ${FUZZ_SECONDS:-30} s each; tests/fuzz/README.md)"
if FUZZ_BUILD=build-sim bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"; then
  summary_passed=$((summary_passed + 1))
else
  summary_failed=$((summary_failed + 1))
fi

step ""
echo
# CPU over wall time against the cores says how busy a step kept them (a test step's tail on one core).
echo "test.sh: step times (s): wall, CPU (user + system of its processes)"
for k in "${!step_names[@]}"; do printf '%7d %7d  %s\n' "${step_seconds[$k]}" "${step_cpu[$k]}" "${step_names[$k]}"; done
echo "test.sh: finished in $(( $(date +%s) - start )) s"
echo "$summary_passed passed, $summary_failed failed, $summary_skipped skipped"
[ "$summary_failed" -eq 0 ]
