#!/usr/bin/env bash
# Run on the lent GPU machine (see docs/gpu.md): unpacks the carried Debian packages, builds with
# the CUDA backend for the local GPU, then, most important first and each step time-boxed so that
# one call inside the lease brings back what finished: the gpu tests (every op on CUDA against the
# CPU reference), decoding and training throughput on cuda and cpu side by side, the backend tests
# under compute-sanitizer, and the rest of the CTest suite. Logs land under $OUT (at most 8 files
# come back). Prepare here first: bash scripts/fetch_gpu_deps.sh
#   GPU_CHECK_BUDGET_S  seconds for the whole script (default 540)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
deadline=$(($(date +%s) + ${GPU_CHECK_BUDGET_S:-540}))
# timeout for a step: its own cap, or what is left of the budget, whichever is smaller
cap() { local left=$((deadline - $(date +%s))); echo $((left < $1 ? (left > 1 ? left : 1) : $1)); }

DEPS=/tmp/coopgen-deps
if ! ls .deps/debs/*.deb >/dev/null 2>&1; then
  echo "gpu_check: .deps/debs is empty: run scripts/fetch_gpu_deps.sh here and carry .deps" >&2
  exit 1
fi
mkdir -p "$DEPS"
for f in .deps/debs/*.deb; do dpkg -x "$f" "$DEPS"; done
LIB=$DEPS/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$LIB:$LIB/openblas-pthread:${LD_LIBRARY_PATH:-}
export OPENBLAS_NUM_THREADS=1  # the cpu side of each comparison: one core, as in docs/results.md

{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  nvcc --version | tail -1
  cmake --version | head -1
  g++ --version | head -1
  nproc
} >"$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
t0=$(date +%s)
{
  cmake -S . -B build-gpu -DCOOPGEN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${arch:-90}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$DEPS/usr" \
    -DCOOPGEN_BLAS_LIBRARY="$LIB/openblas-pthread/libopenblas.so" &&
    timeout "$(cap 360)" cmake --build build-gpu -j"$(nproc)" --target coopgen coopgen_backend_tests bench_decode
} >"$OUT/build.log" 2>&1
build_rc=$?
echo "build: rc $build_rc in $(($(date +%s) - t0)) s" | tee -a "$OUT/build.log"
[ "$build_rc" -eq 0 ] || { tail -30 "$OUT/build.log"; exit 1; }

# 1. Every op on CUDA against the CPU reference, forward and backward, on poisoned memory.
timeout "$(cap 120)" build-gpu/tests/coopgen_backend_tests >"$OUT/gpu_tests.log" 2>&1
rc=$?
echo "gpu tests: rc $rc" | tee -a "$OUT/gpu_tests.log"
tail -4 "$OUT/gpu_tests.log"
[ "$rc" -eq 77 ] && echo "gpu_check: the gpu tests were skipped: no GPU is visible here" >&2

# 2. Throughput, cuda and cpu side by side: decoding (bench/decode.cpp) and training steps.
for preset in oracle text; do
  for dev in cuda cpu; do
    timeout "$(cap 90)" build-gpu/bench/bench_decode --device "$dev" --preset "$preset" \
      --json "$OUT/decode_${preset}_$dev.json" >>"$OUT/bench.log" 2>&1 ||
      echo "bench_decode $preset $dev: rc $?" >>"$OUT/bench.log"
  done
done
cat "$OUT/bench.log"
oracle=.deps/oracle/seqgan_oracle_lstm.safetensors
for dev in cuda cpu; do
  run=/tmp/gpu-check-$dev
  timeout "$(cap 60)" build-gpu/coopgen train --config configs/oracle_mle.yaml --device "$dev" \
    data.oracle="$oracle" data.train_size=2000 data.test_size=200 run_dir="$run/mle" train.steps=200 train.log_every=50 \
    optim.schedule.total_steps=200 train.eval_every=0 train.eval_samples=200 >/dev/null 2>&1
  echo "mle $dev rc $?: $(grep tokens_per_s "$run/mle/metrics.jsonl" 2>/dev/null | tail -1 | tr '\n' ' ')" >>"$OUT/bench.log"
  timeout "$(cap 60)" build-gpu/coopgen train --config configs/oracle_gcn.yaml --device "$dev" \
    data.oracle="$oracle" data.train_size=2000 data.test_size=200 run_dir="$run/gcn" adversarial.init_checkpoint="$run/mle/checkpoint" \
    discriminator.pretrain_steps=20 train.steps=40 train.log_every=10 train.eval_every=0 \
    train.checkpoint_every=0 train.eval_samples=200 >/dev/null 2>&1
  echo "gcn $dev rc $?: $(grep tokens_per_s "$run/gcn/metrics.jsonl" 2>/dev/null | tail -1 | tr '\n' ' ')" >>"$OUT/bench.log"
done
tail -4 "$OUT/bench.log"

# 3. The backend tests under the memory checker.
if command -v compute-sanitizer >/dev/null; then
  timeout "$(cap 120)" compute-sanitizer --tool memcheck build-gpu/tests/coopgen_backend_tests \
    >"$OUT/memcheck.log" 2>&1
  echo "memcheck: rc $?" | tee -a "$OUT/memcheck.log"
  tail -3 "$OUT/memcheck.log"
fi

# 4. The rest of the suite with what time is left (Open MPI and the Python references are not
# on that machine: those tests are CI's).
timeout "$(cap 600)" cmake --build build-gpu -j"$(nproc)" >/dev/null 2>&1 &&
  (cd build-gpu && timeout "$(cap 600)" ctest -j"$(nproc)" --output-on-failure \
    -E 'mpi_ranks|sacrebleu|nltk|safetensors_interop') >"$OUT/ctest.log" 2>&1
tail -8 "$OUT/ctest.log" 2>/dev/null
exit "$rc"
