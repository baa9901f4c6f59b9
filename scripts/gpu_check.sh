#!/usr/bin/env bash
# Run on the lent GPU machine (see docs/gpu.md): unpacks the carried Debian packages, builds with
# the CUDA backend for the local GPU, runs every test (the gpu-labelled ones now run instead of
# reporting Skipped) and writes logs under $OUT. Prepare here first: bash scripts/fetch_gpu_deps.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
DEPS=/tmp/coopgen-deps
if ! ls .deps/debs/*.deb >/dev/null 2>&1; then
  echo "gpu_check: .deps/debs is empty: run scripts/fetch_gpu_deps.sh here and carry .deps" >&2
  exit 1
fi
mkdir -p "$DEPS"
for f in .deps/debs/*.deb; do dpkg -x "$f" "$DEPS"; done
LIB=$DEPS/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$LIB:$LIB/openblas-pthread:${LD_LIBRARY_PATH:-}

{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  nvcc --version | tail -1
  cmake --version | head -1
  g++ --version | head -1
} 2>&1 | tee "$OUT/machine.txt"

arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
cmake -S . -B build-gpu -DCOOPGEN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${arch:-90}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$DEPS/usr" \
  -DCOOPGEN_BLAS_LIBRARY="$LIB/openblas-pthread/libopenblas.so" 2>&1 | tee "$OUT/configure.log"
cmake --build build-gpu -j"$(nproc)" 2>&1 | tee "$OUT/build.log" | tail -5
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "gpu_check: build failed (see build.log)"; exit 1; }
(cd build-gpu && ctest --output-on-failure) 2>&1 | tee "$OUT/ctest.log" | tail -15
rc=${PIPESTATUS[0]}
if grep -q 'gpu_backend .*Skipped' "$OUT/ctest.log"; then
  echo "gpu_check: the gpu tests were skipped: no GPU is visible here" >&2
  rc=1
fi
# Decoding throughput, GPU and CPU side by side (docs/results.md, "Cooperative decoding").
for dev in cuda cpu; do
  build-gpu/bench/bench_decode --device "$dev" --json "$OUT/decode_$dev.json" 2>&1 | tee -a "$OUT/bench.log"
done
if command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck build-gpu/tests/coopgen_backend_tests 2>&1 | tail -5 | tee "$OUT/memcheck.log"
fi
exit "$rc"
