#!/usr/bin/env bash
# The embedded default, end to end on a fresh Debian machine: installs the build dependencies,
# builds (build/, shared with scripts/test.sh), MLE-trains the generator on the SeqGAN oracle task
# on the CPU (configs/oracle_mle.yaml; reused when runs/oracle_mle already holds its final
# checkpoint), then trains it further with GCN (configs/oracle_gcn.yaml: D pre-training, then 300
# generator steps), printing progress and NLL-oracle / NLL-test of both. Extra arguments are passed
# to the GCN run (e.g. train.steps=100).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -DCOOPGEN_CUDA=AUTO -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target coopgen
if grep -qs '"step": 3500, "nll_oracle"' runs/oracle_mle/metrics.jsonl && [ -d runs/oracle_mle/checkpoint ]; then
  echo "run_default: reusing the MLE checkpoint in runs/oracle_mle (delete the folder to retrain)"
else
  rm -rf runs/oracle_mle
  ./build/coopgen train --config configs/oracle_mle.yaml
fi
exec ./build/coopgen train --config configs/oracle_gcn.yaml "$@"
