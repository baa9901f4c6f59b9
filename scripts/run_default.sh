#!/usr/bin/env bash
# The embedded default, end to end on a fresh Debian machine: installs what is missing, builds the
# CPU backend (build-rel/, Release), MLE-trains the generator on the SeqGAN synthetic oracle task
# (configs/oracle_mle.yaml; reused when runs/oracle_mle already holds its final checkpoint), then
# continues from that start, two runs at a time on the two cores, with
#   mle            more maximum likelihood: the control;
#   gcn_optimal    GCN with the optimal discriminator D* = p*/(p* + p), exact on the oracle, and
#                  the proposal q̂ ∝ p·D* token by token (the one that moves KL down; docs/results.md);
#   gcn_optimal_p  GCN with D* and q̂ = p, the method as published;
#   gcn_learned    GCN with a learned discriminator (pre-trained, then one step per generator step);
# and prints one table of NLL-oracle, NLL-test and KL(p*‖p) per token (NLL-test minus the
# oracle's own NLL of the same test sequences) of each, start → end, and draws their curves.
# STEPS (default 300) sets the generator steps; extra arguments go to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build-rel -DCOOPGEN_CUDA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-rel -j"$(nproc)" --target coopgen
bin=build-rel/coopgen
export OPENBLAS_NUM_THREADS=1  # one core per run, two runs side by side
if grep -qs '"step": 3500, "nll_oracle"' runs/oracle_mle/metrics.jsonl && [ -d runs/oracle_mle/checkpoint ]; then
  echo "run_default: reusing the MLE start in runs/oracle_mle (delete the folder to retrain)"
else
  rm -rf runs/oracle_mle
  "$bin" train --config configs/oracle_mle.yaml
fi
steps=${STEPS:-300}
common=(train.steps="$steps" optim.schedule.total_steps="$steps" train.eval_every=50 train.log_every=25
        train.checkpoint_every=0 train.eval_samples=1000 "$@")
run() {  # name, config, overrides...
  local name=$1 config=$2
  shift 2
  rm -rf "runs/default/$name"
  "$bin" train --config "$config" run_dir="runs/default/$name" "${common[@]}" "$@" > "runs/default/$name.log" 2>&1 ||
    { echo "run_default: $name failed:"; tail -3 "runs/default/$name.log"; return 1; }
  echo "run_default: $name done ($(tail -1 "runs/default/$name.log" | cut -c1-120))"
}
mkdir -p runs/default
echo "run_default: four runs of $steps generator steps from the MLE start, two at a time (logs in runs/default/)"
run gcn_learned configs/oracle_gcn.yaml discriminator.pretrain_steps=600 &
learned=$!
run gcn_optimal configs/oracle_gcn.yaml discriminator.kind=optimal decoding.decoder=guided decoding.weights=importance
run gcn_optimal_p configs/oracle_gcn.yaml discriminator.kind=optimal
run mle configs/oracle_gcn.yaml method=mle
wait $learned
echo
echo "From the MLE start (runs/oracle_mle), $steps steps each; KL(p*‖p) per token = NLL-test − H(p*) on the test set:"
python3 scripts/final_table.py --start --metrics nll_oracle,nll_test,kl_test \
  runs/default/mle runs/default/gcn_optimal runs/default/gcn_optimal_p runs/default/gcn_learned
if python3 scripts/plot.py compare runs/default/curves.png runs/default/{mle,gcn_optimal,gcn_optimal_p,gcn_learned} \
     --metrics kl_test,nll_oracle,nll_test 2>/dev/null; then
  echo "curves: runs/default/curves.png"
else
  echo "(curves not drawn: python3 with matplotlib needed; scripts/plot.py compare)"
fi
