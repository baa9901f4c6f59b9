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
#   6. the libFuzzer targets of tests/fuzz, built in step 3: their regression inputs, then CI's
#      count of inputs each, one per core (scripts/fuzz.sh ci);
#   7. the benchmark guards of build/ (label bench: timing ratios), alone on the machine.
# Steps 2-6 run as two lanes at once, each step in order within its lane: steps 2, 3 and 6 and the
# ptxas check; steps 4 and 5 at nice 19, filling the cores the first lane leaves idle (below). Each
# step's output is printed whole when it ends, with its wall and CPU time, and the times again in a
# table at the end (CTest prints each test's); the last line is the summary "N passed, N failed, N
# skipped". The everyday loop is much shorter: `cmake --build build -j2 && ctest --test-dir build -L
# quick -j2` (docs/architecture.md, "The everyday loop").
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# ctest -j runs one test per core: OpenBLAS's own threads, and PyTorch's OpenMP threads in the
# GPT-2 cross-checks, would spin against the other tests' (gpt2_vs_transformers beside a busy core:
# 38 s and 40 s of CPU with its 2 threads, 21 s and 21 s with 1; 2026-12-07).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
start=$(date +%s)
ticks=$(getconf CLK_TCK)
logs=$(mktemp -d)  # each step's output, printed whole when the step ends
trap 'rm -rf "$logs"' EXIT

cpu_ticks() {  # PID: prints the CPU time (clock ticks) of PID's waited-for children and theirs
  local stat; stat=$(< "/proc/$1/stat")
  read -r -a stat <<< "${stat##*) }"  # the fields after the command's name, from the state (field 3)
  echo $((stat[13] + stat[14]))  # fields 16 and 17: cutime, cstime
}
ctest_counts() {  # LOG: prints "passed failed skipped" of a CTest run's output (1 failed if it has no summary)
  local total failed skipped
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$1" | tail -1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$1" | tail -1)
  skipped=$(grep -c '(Skipped)' "$1")
  [ -n "$total" ] || { echo "0 1 0"; return; }
  echo "$((total - failed - skipped)) $failed $skipped"
}
run_step() {  # ID NAME KIND COMMAND...: runs COMMAND, its output into $logs/ID.log, then writes
  # $logs/ID.done: status, wall and CPU seconds, passed, failed, skipped, NAME. KIND: build (a
  # failure counts one), ctest (CTest's counts) or check (one passed or failed). Returns the status.
  local id=$1 name=$2 kind=$3; shift 3
  local me=$BASHPID t0 c0 rc passed=0 failed=0 skipped=0
  t0=$(date +%s); c0=$(cpu_ticks "$me")
  echo "$name" > "$logs/$id.start"
  "$@" > "$logs/$id.log" 2>&1; rc=$?
  case $kind in
    build) [ "$rc" -eq 0 ] || failed=1 ;;
    ctest) read -r passed failed skipped <<< "$(ctest_counts "$logs/$id.log")"
           [ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1 ;;  # what ran after CTest failed
    check) if [ "$rc" -eq 0 ]; then passed=1; else failed=1; fi ;;
  esac
  echo "$rc $(($(date +%s) - t0)) $((($(cpu_ticks "$me") - c0 + ticks / 2) / ticks)) $passed $failed $skipped $name" \
    > "$logs/$id.done.tmp"
  mv "$logs/$id.done.tmp" "$logs/$id.done"
  return "$rc"
}
step_names=(); step_seconds=(); step_cpu=(); summary_passed=0; summary_failed=0; summary_skipped=0
show_steps() {  # prints each step that ended since the last call (its whole output), then each that started
  local f id rc wall cpu passed failed skipped name
  for f in $(ls -tr "$logs"/*.done 2>/dev/null); do
    id=$(basename "$f" .done)
    [ -e "$logs/$id.shown" ] && continue
    touch "$logs/$id.shown" "$logs/$id.started"
    read -r rc wall cpu passed failed skipped name < "$f"
    echo "== $name: its output =="
    cat "$logs/$id.log"
    echo "-- $name: $wall s (CPU $cpu s)$([ "$rc" -eq 0 ] || echo ", exit status $rc")"
    step_names+=("$name"); step_seconds+=("$wall"); step_cpu+=("$cpu")
    summary_passed=$((summary_passed + passed)); summary_failed=$((summary_failed + failed))
    summary_skipped=$((summary_skipped + skipped))
  done
  for f in "$logs"/*.start; do
    [ -e "$f" ] || continue
    id=$(basename "$f" .start)
    [ -e "$logs/$id.started" ] || { echo "== $(< "$f") (started at $(($(date +%s) - start)) s) =="; touch "$logs/$id.started"; }
  done
}
configure() {  # DIR CMAKE_ARGS...: Ninja where installed (it keeps the cores busier than make), unless DIR has a generator
  local dir=$1 generator=(); shift
  [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" "$@" >/dev/null
}
ctest_in() {  # DIR CTEST_ARGS...
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@")
}

# COOPGEN_INSTALL_TORCH=1 (CI): PyTorch and transformers too, for the GPT-2 / BPE cross-checks.
echo "== install dependencies (its output when it ends: on a fresh machine, minutes) =="
run_step 00 "install dependencies" build \
  bash scripts/install_deps.sh $([ "${COOPGEN_INSTALL_TORCH:-0}" = 1 ] && echo --with-torch)
show_steps
[ "$summary_failed" -eq 0 ] || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

sim=OFF
[ -f "${CUDA_HOME:-/usr/local/cuda}/include/cuda_runtime.h" ] && sim=ON
nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc

build_release() {
  # -g1: line tables only (backtraces name the line), a quarter less compile time than -g; the
  # kernels' host side likewise (nvcc's -g is gcc's -g: 10% of a kernel file's compile time).
  # nvcc as this script finds it ($CUDA_HOME), so that the ptxas step below has build/'s reports.
  configure build -DCOOPGEN_CUDA=AUTO $([ -x "$nvcc" ] && echo "-DCMAKE_CUDA_COMPILER=$nvcc") -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CUDA_FLAGS_RELWITHDEBINFO="-O2 -Xcompiler=-g1 -DNDEBUG" &&
    cmake --build build -j"$jobs"
}
ptxas_check() {  # from the reports build/ kept beside its objects: nothing compiled again
  python3 scripts/ptxas_report.py --build build \
    --files attention.cu,attention_decode.cu,attention_mma.cu,attention_simt.cu,sampling.cu,losses.cu,layernorm.cu,adamw.cu \
    --check bench/baselines/ptxas_sm90.json > build/ptxas_report.md
}
lane_release() {
  run_step 11 "build (CUDA AUTO)" build build_release || return
  run_step 12 "tests" ctest ctest_in build -LE bench
  [ -x "$nvcc" ] &&
    run_step 13 "static resources of the hot kernels for sm_90 (ptxas: no new stack frame or spill; docs/perf.md)" check ptxas_check
}

# The three checking builds below compile each library's and test program's files in batches of
# eight (CMake's unity build: one compiler start and one parse of the shared headers per batch;
# files with options of their own, the kernels, stay alone): on one machine (2026-12-07) 138 -> 105 s
# for the memcheck build, 104 -> 82 s for the racecheck build. build/ above compiles one file per
# object, as a developer's build does, so a missing #include still fails there.
unity=-DCMAKE_UNITY_BUILD=ON
build_memcheck() {
  # Debug (assertions on; -O0: the optimiser removes no access the sanitizers would check) with line
  # tables only; clang (half gcc's compile time here), which also builds the libFuzzer targets from
  # the same libraries (COOPGEN_FUZZ: coverage on the loaders' libraries only), so they need no build
  # of their own. No benchmark is built (none runs under a sanitizer). -O1 gains nothing here
  # (2026-12-07, one machine): the tests took 170 s instead of 363 s, the build 339 s instead of
  # 156 s (clang compiles 2.5 times slower with ASan at -O1).
  configure build-sim $unity -DCOOPGEN_SIM=$sim -DCOOPGEN_CUDA=OFF -DCOOPGEN_SANITIZE=ON -DCOOPGEN_FUZZ=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 && cmake --build build-sim -j"$jobs"
}
lane_memcheck() {
  run_step 21 "memcheck build (clang, ASan + UBSan, CUDA kernels on the emulator: $sim; the fuzzers too)" build \
    build_memcheck || return
  run_step 22 "memcheck tests" ctest ctest_in build-sim -LE "experiment|bench"
  run_step 23 "fuzzers (the memcheck build's: regression inputs, then CI's count of inputs each; tests/fuzz/README.md)" \
    check env FUZZ_BUILD=build-sim bash scripts/fuzz.sh "${FUZZ_SECONDS:-ci}"  # FUZZ_SECONDS: seconds per target instead
}

build_race() {
  # -O1, ThreadSanitizer's recommended level: the emulated kernels' locals live in registers
  # instead of instrumented stack slots. On one machine (2026-12-07) the tests took 58 s instead of
  # 356 s and the build 128 s instead of 163 s (gcc -O0, all of sim_tests' former programs); a race
  # on shared or global memory is still reported (sim_catches_missing_barrier).
  configure build-race $unity -DCOOPGEN_SIM=ON -DCOOPGEN_SANITIZE_THREAD=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" && cmake --build build-race -j"$jobs" --target sim_tests
}
build_simrel() {
  configure build-simrel $unity -DCOOPGEN_SIM=ON -DCOOPGEN_SIM_TRACE=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Release && cmake --build build-simrel -j"$jobs" --target sim_emulator_tests sim_benches bench_sim_switch
}
simrel_tests() {
  ctest_in build-simrel -L sim -E '^sim_backend[.]' || return
  build-simrel/bench/bench_sim_switch --json build-simrel/bench_sim_switch.json
}
lane_emulator() {
  if run_step 31 "racecheck build (clang -O1, TSan, CUDA kernels on the emulator)" build build_race; then
    run_step 32 "racecheck tests" ctest ctest_in build-race -L sim -LE "experiment|bench"
  fi
  run_step 33 "plain emulator build (no sanitizer; clang, access trace built in)" build build_simrel || return
  run_step 34 "plain emulator tests" ctest simrel_tests
}

# Two lanes at once, each in a process group of its own (set -m: an interrupt stops its builds and
# tests too). The main lane (release, then memcheck and the fuzzers: most of the work) has the
# cores; the emulator lane runs at nice 19, so it takes what the main lane leaves idle (its links,
# its slowest tests' tails) without slowing it, then the whole machine once the main lane is done.
# Three lanes at equal priority took 20-40% more CPU per step (six compilers switching on two cores)
# and ended later.
lanes=()
stop_lanes() { local p; for p in "${lanes[@]}"; do kill -- -"$p" 2>/dev/null; done; }
trap 'stop_lanes; exit 130' INT
trap 'stop_lanes; exit 143' TERM
set -m
{ lane_release; lane_memcheck; } < /dev/null & lanes+=($!)
if [ "$sim" = ON ]; then
  # From the start: made to wait until build/ was built, it found less idle time to fill and the
  # suite took 810 s instead of 777 (2026-12-07, clean clones).
  { renice -n 19 -p "$BASHPID" >/dev/null; lane_emulator; } < /dev/null & lanes+=($!)
else
  echo "== no CUDA headers: the emulator builds are skipped =="
fi
set +m  # the lanes keep their groups; this shell's own commands (sleep) stay in its group, so ^C reaches the trap
running() { local p; for p in "${lanes[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do show_steps; sleep 2; done
wait
show_steps
# A step that started and never ended (its lane was killed) is a failure.
for f in "$logs"/*.start; do
  [ -e "$f" ] && [ ! -e "${f%.start}.done" ] && { echo "-- $(< "$f"): did not end"; summary_failed=$((summary_failed + 1)); }
done

# Timing ratios of the fused kernels against their unfused compositions: alone on the machine.
if [ -f "$logs/11.done" ] && [ "$(cut -d' ' -f1 "$logs/11.done")" = 0 ]; then
  run_step 91 "benchmark guards (build/, label bench; alone on the machine)" ctest ctest_in build -L bench
  show_steps
fi

echo
# CPU over wall time against the cores says how busy a step kept them (steps of different lanes overlap).
echo "test.sh: step times (s): wall, CPU (user + system of its processes)"
for k in "${!step_names[@]}"; do printf '%7d %7d  %s\n' "${step_seconds[$k]}" "${step_cpu[$k]}" "${step_names[$k]}"; done
echo "test.sh: finished in $(( $(date +%s) - start )) s"
echo "$summary_passed passed, $summary_failed failed, $summary_skipped skipped"
[ "$summary_failed" -eq 0 ]
