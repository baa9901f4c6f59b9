#!/usr/bin/env bash
# The embedded default, end to end on a fresh Debian machine: installs the build dependencies,
# builds (build/, shared with scripts/test.sh), and MLE-trains the generator on the SeqGAN oracle
# task on the CPU (configs/oracle_mle.yaml, a few minutes on 2 cores), printing progress and the
# final NLL-oracle / NLL-test. Extra arguments are passed to `coopgen train` (e.g. train.steps=300).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -DCOOPGEN_CUDA=AUTO -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target coopgen
exec ./build/coopgen train --config configs/oracle_mle.yaml "$@"
