#!/usr/bin/env bash
# Run on the lent GPU machine (see docs/gpu.md): unpacks the carried Debian packages, builds with
# the CUDA backend for the local GPU, then, most important first and each step time-boxed so that
# one call inside the lease brings back what finished: the gpu tests (every op on CUDA against the
# CPU reference), decoding and training throughput on cuda and cpu side by side, the backend tests
# under compute-sanitizer, the kernel benchmarks beside their PyTorch peers (bench/peers), one
# rank of data parallelism over NCCL, Nsight Compute on the kernels bench/memory_report traces on
# the emulator, and the rest of the CTest suite. Logs land under $OUT, one per step (at most 8 files
# come back). Prepare here first: bash scripts/fetch_gpu_deps.sh, and bash scripts/gpu_prebuild.sh
# (the binaries, built here into .gpu-bin/: no build on the machine; without them it builds).
#   bash scripts/gpu_check.sh [--dry-run]
#   GPU_CHECK_BUDGET_S  seconds for the whole script (default 540)
#   GPU_CHECK_STEPS     which steps, in this order (default "tests ncu bench peers nccl memcheck suite")
# --dry-run rehearses the call here: it checks what must be carried, prints each command that
# needs the GPU instead of running it (into the same logs), and runs the ncu step's comparison on
# a CSV of zeros, so the first lease does not spend its minutes on a typo.
set -uo pipefail
cd "$(dirname "$0")/.."
dry=0
[ "${1:-}" = --dry-run ] && dry=1
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
deadline=$(($(date +%s) + ${GPU_CHECK_BUDGET_S:-540}))
# timeout for a step: its own cap, or what is left of the budget, whichever is smaller
steps=" ${GPU_CHECK_STEPS:-tests ncu bench peers nccl memcheck suite} "
want() { [[ $steps == *" $1 "* ]]; }
cap() { local left=$((deadline - $(date +%s))); echo $((left < $1 ? (left > 1 ? left : 1) : $1)); }
# x COMMAND...: runs a command that needs the GPU machine; under --dry-run prints it instead.
x() { if [ "$dry" = 1 ]; then echo "+ $*"; else "$@"; fi; }

DEPS=/tmp/coopgen-deps
if ! ls .deps/debs/*.deb >/dev/null 2>&1; then
  echo "gpu_check: .deps/debs is empty: run scripts/fetch_gpu_deps.sh here and carry .deps" >&2
  [ "$dry" = 1 ] || exit 1
fi
mkdir -p "$DEPS"
for f in .deps/debs/*.deb; do [ -f "$f" ] && dpkg -x "$f" "$DEPS"; done
LIB=$DEPS/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$LIB:$LIB/openblas-pthread:${LD_LIBRARY_PATH:-}
export OPENBLAS_NUM_THREADS=1  # the cpu side of each comparison: one core, as in docs/results.md

{
  date -u
  x nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  x nvcc --version | tail -1
  cmake --version | head -1
  g++ --version | head -1
  nproc
} >"$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

arch=$(x nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
configure() {
  x cmake -S . -B build-gpu -DCOOPGEN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${arch:-90}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$DEPS/usr" \
    -DCOOPGEN_BLAS_LIBRARY="$LIB/openblas-pthread/libopenblas.so"
}
# The binaries: carried in .gpu-bin/ (scripts/gpu_prebuild.sh, sm_90) when they are all there,
# else built here.
B=.gpu-bin
for t in coopgen tests/coopgen_backend_tests tests/io_fixture bench/bench_decode bench/bench_attention \
         bench/bench_logprob bench/bench_sampling bench/bench_train_step bench/memory_report; do
  [ -x "$B/$t" ] || B=build-gpu
done
export LD_LIBRARY_PATH=${CUDA_HOME:-/usr/local/cuda}/lib64:$LD_LIBRARY_PATH
# Built on Debian against its Open MPI and this toolkit: a library this machine lacks means building here.
if [ "$B" = .gpu-bin ] && missing=$(ldd .gpu-bin/tests/coopgen_backend_tests | grep "not found"); then
  echo "gpu_check: the carried binaries lack libraries here, building instead: $missing" >&2
  B=build-gpu
fi
if [ "$B" = .gpu-bin ]; then
  echo "binaries: carried in .gpu-bin/ (commit $(cat .gpu-bin/commit 2>/dev/null), sm_90; this tree is at $(git rev-parse HEAD 2>/dev/null))"
  [ "${arch:-90}" = 90 ] || [ "$dry" = 1 ] || echo "gpu_check: the carried binaries are for sm_90, this GPU is sm_$arch" >&2
else
  t0=$(date +%s)
  {
    configure &&
      x timeout "$(cap 360)" cmake --build build-gpu -j"$(nproc)" --target coopgen coopgen_backend_tests bench_decode bench_attention bench_logprob bench_sampling bench_train_step io_fixture memory_report
  } >"$OUT/build.log" 2>&1
  build_rc=$?
  echo "build: rc $build_rc in $(($(date +%s) - t0)) s" | tee -a "$OUT/build.log"
  [ "$build_rc" -eq 0 ] || { tail -30 "$OUT/build.log"; exit 1; }
fi

rc=0
# 1. Every op on CUDA against the CPU reference, forward and backward, on poisoned memory.
if want tests; then
  x timeout "$(cap 120)" "$B/tests/coopgen_backend_tests" >"$OUT/gpu_tests.log" 2>&1
  rc=$?
  echo "gpu tests: rc $rc" | tee -a "$OUT/gpu_tests.log"
  tail -4 "$OUT/gpu_tests.log"
  [ "$rc" -eq 77 ] && echo "gpu_check: the gpu tests were skipped: no GPU is visible here" >&2
fi

# 1b. Nsight Compute on the kernels bench/memory_report traces on the emulator, at the same shapes
# (each case's larger one; docs/perf.md, "Memory access patterns"): global sectors and requests,
# shared bank conflicts, DRAM bytes and duration per launch, beside the emulator's figures and the
# roofline bound (scripts/ncu_compare.py).
if want ncu; then
  {
    ncu=$(command -v ncu || ls -d "${CUDA_HOME:-/usr/local/cuda}"/bin/ncu /usr/local/cuda*/nsight-compute*/ncu \
      /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
    [ -n "$ncu" ] || { echo "ncu: Nsight Compute not found on this machine"; ncu=ncu; }
    metrics=$(python3 scripts/ncu_compare.py --metrics)
    csvs=()
    for c in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["cases"]))' bench/baselines/memory_sim.json); do
      csv=/tmp/ncu_$c.csv
      x timeout "$(cap 30)" "$ncu" --csv --print-units base --metrics "$metrics" \
        "$B/bench/memory_report" --launch-only --only "$c" >"$csv" 2>&1 || echo "ncu $c: rc $?"
      if [ "$dry" = 1 ]; then  # the command, then a CSV of zeros in ncu's layout: the comparison runs end to end
        cat "$csv"
        { echo '"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"'
          for m in ${metrics//,/ }; do echo "\"0\",\"1\",\"memory_report\",\"host\",\"dry_run_kernel\",\"1\",\"7\",\"(128, 1, 1)\",\"(1, 1, 1)\",\"0\",\"9.0\",\"Command line profiler metrics\",\"$m\",\"\",\"0\""; done
        } >"$csv"
      fi
      csvs+=("$csv")
    done
    python3 scripts/ncu_compare.py bench/baselines/memory_sim.json "${csvs[@]}"
  } >"$OUT/ncu.log" 2>&1
  echo "ncu: $(grep -c '^## ' "$OUT/ncu.log") cases compared ($OUT/ncu.log)"
fi

oracle=.deps/oracle/seqgan_oracle_lstm.safetensors
# 2. Throughput, cuda and cpu side by side: decoding (bench/decode.cpp) and training steps.
if want bench; then
  for preset in oracle text; do
    for dev in cuda cpu; do
      # On the GPU also sampling's CUDA graph against its eager steps, and the prefix caches against
      # whole prefixes (a pass per step over k·t tokens against gathers and launches): which wins
      # there is not known from the CPU.
      decoders=sample,mcts_10,mcts_50,das_4x8
      [ "$dev" = cuda ] && decoders=$decoders,sample_eager,mcts_10_whole,guided_16,guided_16_whole
      x timeout "$(cap 90)" "$B/bench/bench_decode" --device "$dev" --preset "$preset" --decoders "$decoders" \
        --json "/tmp/decode_${preset}_$dev.json" >>"$OUT/bench.log" 2>&1 ||
        echo "bench_decode $preset $dev: rc $?" >>"$OUT/bench.log"
    done
  done
  cat /tmp/decode_*.json >>"$OUT/bench.log" 2>/dev/null  # at most 8 files come back: the JSON goes in the log
  cat "$OUT/bench.log"
  for dev in cuda cpu; do
    run=/tmp/gpu-check-$dev
    x timeout "$(cap 60)" "$B/coopgen" train --config configs/oracle_mle.yaml --device "$dev" \
      data.oracle="$oracle" data.train_size=2000 data.test_size=200 data.valid_size=200 run_dir="$run/mle" train.steps=200 train.log_every=50 \
      optim.schedule.total_steps=200 train.eval_every=0 train.eval_samples=200 >/dev/null 2>&1
    echo "mle $dev rc $?: $(grep tokens_per_s "$run/mle/metrics.jsonl" 2>/dev/null | tail -1 | tr '\n' ' ')" >>"$OUT/bench.log"
    x timeout "$(cap 60)" "$B/coopgen" train --config configs/oracle_gcn.yaml --device "$dev" \
      data.oracle="$oracle" data.train_size=2000 data.test_size=200 data.valid_size=200 run_dir="$run/gcn" model.init="$run/mle/checkpoint" \
      discriminator.pretrain_steps=20 train.steps=40 train.log_every=10 train.eval_every=0 \
      train.checkpoint_every=0 train.eval_samples=200 >/dev/null 2>&1
    echo "gcn $dev rc $?: $(grep tokens_per_s "$run/gcn/metrics.jsonl" 2>/dev/null | tail -1 | tr '\n' ' ')" >>"$OUT/bench.log"
  done
  tail -4 "$OUT/bench.log"
fi

# 2b. The kernels against PyTorch on the same GPU, at issue 5's shapes: attention (B 8, H 12,
# T 1024, d 64, causal), fused sampling (256 × 50257, plain/top-k/top-p), the output layer's
# weighted log-prob (N 16384, V 50257, d 768), and whole MLE and GCN steps of a GPT-2-small-shaped
# model. Each coopgen run also reports its fraction of the copy bandwidth / bf16 GEMM rate
# measured in the same process.
if want peers; then
  {
    for b in attention sampling logprob train_step; do
      x timeout "$(cap 120)" "$B/bench/bench_$b" --device cuda --size gpt2 --json "/tmp/coopgen_$b.json" &&
        x timeout "$(cap 120)" python3 bench/peers/$b.py --json "/tmp/peer_$b.json" &&
        python3 scripts/compare_peers.py "/tmp/coopgen_$b.json" "/tmp/peer_$b.json"
      cat "/tmp/coopgen_$b.json" "/tmp/peer_$b.json" 2>/dev/null
    done
    # The output layer and the training steps again with bf16 activations and tensor-core products
    # (precision bf16), against the same peers.
    x timeout "$(cap 120)" "$B/bench/bench_logprob" --device cuda --size gpt2 --precision bf16 \
      --json /tmp/coopgen_logprob_bf16.json &&
      python3 scripts/compare_peers.py /tmp/coopgen_logprob_bf16.json /tmp/peer_logprob.json
    x timeout "$(cap 120)" "$B/bench/bench_train_step" --device cuda --size gpt2 --precision bf16 \
      --json /tmp/coopgen_train_step_bf16.json &&
      python3 scripts/compare_peers.py /tmp/coopgen_train_step_bf16.json /tmp/peer_train_step.json
  } >"$OUT/peers.log" 2>&1
  cat "$OUT/peers.log"
fi

# 3. Data parallelism over NCCL on this machine's GPUs: one rank under mpirun takes the whole
# collective path (NCCL communicator, gradient buckets summed on a side stream during the
# backward pass) and must reach the model a plain run reaches, up to the GPU backend's own
# run-to-run noise (atomic adds: two plain runs differ by ~3e-7 relative after 50 MLE steps; GCN
# amplifies it through sampling, so its runs are compared by their metrics). Small buckets (50 kB,
# a few dozen per step) exercise the overlap; the default 25 MB (one bucket here) gives the cost.
# More ranks where there are GPUs.
if want nccl; then
  {
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 NCCL_DEBUG=WARN
    x "$B/coopgen" devices
    gpus=$(x nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
    common=(data.oracle="$oracle" data.train_size=2000 data.test_size=200 data.valid_size=200 train.eval_every=0
            train.eval_samples=200 train.log_every=10 distributed.timeout_s=60)
    mle=(--config configs/oracle_mle.yaml --device cuda train.steps=50 optim.schedule.total_steps=50 "${common[@]}")
    gcn=(--config configs/oracle_gcn.yaml --device cuda model.init=/tmp/nccl/plain/checkpoint
         discriminator.pretrain_steps=5 train.steps=10 train.checkpoint_every=0 "${common[@]}")
    rate() { grep tokens_per_s "$1/metrics.jsonl" | tail -1; }
    x timeout "$(cap 60)" "$B/coopgen" train "${mle[@]}" run_dir=/tmp/nccl/plain >/tmp/nccl-plain.log 2>&1 ||
      echo "plain run failed: $(tail -1 /tmp/nccl-plain.log)"
    # (Open MPI binds a rank to one core by default; --bind-to none shows what that costs here.)
    for run in "0.05 core" "25 core" "25 none"; do
      read -r b bind <<<"$run"
      x timeout "$(cap 60)" mpirun -np 1 --bind-to "$bind" "$B/coopgen" train "${mle[@]}" \
        distributed.bucket_mb="$b" run_dir="/tmp/nccl/one-$b-$bind" 2>&1 | grep -v "^\[" | tail -2
      x "$B/tests/io_fixture" compare /tmp/nccl/plain/checkpoint "/tmp/nccl/one-$b-$bind/checkpoint" 1e-4 &&
        echo "nccl: mpirun -np 1 (NCCL, $b MB buckets) equals the plain run"
      echo "mpirun -np 1 --bind-to $bind, $b MB buckets: $(rate "/tmp/nccl/one-$b-$bind")"
    done
    echo "plain: $(rate /tmp/nccl/plain)"
    x timeout "$(cap 60)" "$B/coopgen" train "${gcn[@]}" run_dir=/tmp/nccl/gcn-plain >/dev/null 2>&1
    x timeout "$(cap 60)" mpirun -np 1 "$B/coopgen" train "${gcn[@]}" distributed.bucket_mb=0.05 \
      run_dir=/tmp/nccl/gcn-one >/dev/null 2>&1 && echo "nccl: GCN (generator's and discriminator's buckets) ran"
    echo "GCN plain: $(rate /tmp/nccl/gcn-plain)"
    echo "GCN mpirun -np 1: $(rate /tmp/nccl/gcn-one)"
    if [ "$gpus" -gt 1 ]; then
      x timeout "$(cap 90)" mpirun -np "$gpus" "$B/coopgen" train "${mle[@]}" run_dir=/tmp/nccl/many 2>&1 | tail -2
      x "$B/tests/io_fixture" compare /tmp/nccl/plain/checkpoint /tmp/nccl/many/checkpoint 1e-4 &&
        echo "nccl: $gpus ranks equal one"
      echo "$gpus ranks: $(rate /tmp/nccl/many)"
    fi
  } >"$OUT/nccl.log" 2>&1
  cat "$OUT/nccl.log"
fi

# 4. The backend tests under the memory checker.
if want memcheck && command -v compute-sanitizer >/dev/null; then
  x timeout "$(cap 120)" compute-sanitizer --tool memcheck "$B/tests/coopgen_backend_tests" \
    >"$OUT/memcheck.log" 2>&1
  echo "memcheck: rc $?" | tee -a "$OUT/memcheck.log"
  tail -3 "$OUT/memcheck.log"
fi

# 5. The rest of the suite with what time is left (the Python references' packages are not on
# that machine, and ../shared does not travel: those tests are CI's).
if want suite; then
  { [ -f build-gpu/CMakeCache.txt ] || configure >/dev/null; } &&
    x timeout "$(cap 600)" cmake --build build-gpu -j"$(nproc)" >/dev/null 2>&1 &&
    (cd build-gpu 2>/dev/null || [ "$dry" = 1 ] || exit 1; x timeout "$(cap 600)" ctest -j"$(nproc)" --output-on-failure \
      -E 'mpi_ranks|sacrebleu|nltk|safetensors_interop') >"$OUT/ctest.log" 2>&1
  tail -8 "$OUT/ctest.log" 2>/dev/null
fi
exit "$rc"
