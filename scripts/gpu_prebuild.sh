#!/usr/bin/env bash
# Builds here (nvcc, sm_90, Release) the binaries scripts/gpu_check.sh runs on a lent GPU machine,
# and puts them, stripped, in the ignored folder .gpu-bin/ (laid out as a build folder: coopgen,
# tests/, bench/), so that the lease spends its minutes measuring instead of compiling:
#   bash scripts/gpu_prebuild.sh            # then: run(command="bash scripts/gpu_check.sh", carry=[".deps", ".gpu-bin"])
# The build folder is build-gpu-prebuilt/ (kept for incremental rebuilds; it does not travel).
# Fails when nvcc is missing or the folder exceeds what the device tool carries (64 MiB in all,
# .deps included).
set -euo pipefail
cd "$(dirname "$0")/.."
nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
[ -x "$nvcc" ] || { echo "gpu_prebuild: $nvcc not found" >&2; exit 1; }
targets="coopgen coopgen_backend_tests io_fixture bench_decode bench_attention bench_logprob bench_sampling bench_train_step memory_report"
cmake -S . -B build-gpu-prebuilt -DCOOPGEN_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-gpu-prebuilt -j"${JOBS:-$(nproc)}" $(for t in $targets; do printf -- "--target %s " "$t"; done)
rm -rf .gpu-bin
for t in $targets; do
  path=$(cd build-gpu-prebuilt && find . -type f -name "$t" -perm -u+x | head -1)
  mkdir -p ".gpu-bin/$(dirname "$path")"
  strip -o ".gpu-bin/$path" "build-gpu-prebuilt/$path"
done
git rev-parse HEAD >.gpu-bin/commit
size=$(du -sm .gpu-bin $([ -d .deps ] && echo .deps) | awk '{s += $1} END {print s}')
echo "gpu_prebuild: .gpu-bin/ at commit $(cut -c1-7 .gpu-bin/commit), $(du -sh .gpu-bin | cut -f1); with .deps ${size} MiB"
[ "$size" -lt 64 ] || { echo "gpu_prebuild: over the 64 MiB the device tool carries" >&2; exit 1; }
