#!/usr/bin/env bash
# The embedded default, end to end on a fresh Debian machine: installs what is missing, builds the
# CPU backend (build-rel/, Release), MLE-trains the generator on the SeqGAN synthetic oracle task
# (configs/oracle_mle.yaml: evaluated every 250 steps on a validation split of fresh oracle samples,
# stopped early; its best-validation checkpoint is MLE*, runs/oracle_mle/checkpoint_best; reused
# when runs/oracle_mle holds a finished run), then continues from MLE*, two runs at a time on the
# two cores, with
#   mle            more maximum likelihood, stopped early on validation: the control;
#   gcn_optimal    GCN with the optimal discriminator D* = p*/(p* + p), exact on the oracle, and
#                  the proposal q̂ ∝ p·D* token by token (docs/results.md);
#   gcn_optimal_p  GCN with D* and q̂ = p, the method as published;
#   gcn_learned    GCN with a learned discriminator (pre-trained, then one step per generator step);
# and prints one table: for each run its start → its evaluation of lowest nll_valid (every run
# chosen on the validation split, never the test set), with KL(p*‖p) per token (NLL-test minus the
# oracle's own NLL of the same test sequences), NLL-oracle, NLL-test and the target's gain
# KL(p*‖p) − KL(p*‖q), q ∝ p·D, of each run's D (docs/method.md, "The target, measured").
# STEPS (default 300) sets the generator steps; extra arguments go to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build-rel -DCOOPGEN_CUDA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-rel -j"$(nproc)" --target coopgen
bin=build-rel/coopgen
export OPENBLAS_NUM_THREADS=1  # one core per run, two runs side by side
if python3 scripts/grid.py finished runs/oracle_mle && [ -d runs/oracle_mle/checkpoint_best ]; then
  echo "run_default: reusing MLE* in runs/oracle_mle (delete the folder to retrain)"
else
  "$bin" train --config configs/oracle_mle.yaml --overwrite
fi
steps=${STEPS:-300}
common=(model.init=runs/oracle_mle/checkpoint_best train.steps="$steps" optim.schedule.total_steps="$steps"
        train.eval_every=50 train.log_every=25 train.checkpoint_every=0 train.eval_samples=1000 "$@")
runs=(mle gcn_optimal gcn_optimal_p gcn_learned)
run() {  # name, config, overrides...
  local name=$1 config=$2
  shift 2
  "$bin" train --config "$config" run_dir="runs/default/$name" --overwrite "${common[@]}" "$@" > "runs/default/$name.log" 2>&1 ||
    { echo "run_default: $name failed:"; tail -3 "runs/default/$name.log"; return 1; }
  echo "run_default: $name done ($(grep '^best nll_valid' "runs/default/$name.log" | cut -c1-80))"
}
# Every minute, the newest evaluation of each run that is going.
watch_runs() {
  while sleep 60; do
    for name in "${runs[@]}"; do
      [ -f "runs/default/$name.log" ] && ! grep -q '^best nll_valid' "runs/default/$name.log" &&
        echo "run_default: $name $(grep -E '^(eval step|discriminator)' "runs/default/$name.log" | tail -1 | cut -c1-110)"
    done
  done
}
mkdir -p runs/default
rm -f runs/default/*.log
echo "run_default: four runs of $steps generator steps from MLE*, two at a time (logs in runs/default/)"
watch_runs &
watcher=$!
trap 'kill $watcher 2>/dev/null' EXIT
run gcn_learned configs/oracle_gcn.yaml discriminator.pretrain_steps=600 &
learned=$!
run gcn_optimal configs/oracle_gcn.yaml discriminator.kind=optimal decoding.decoder=guided decoding.weights=importance
run gcn_optimal_p configs/oracle_gcn.yaml discriminator.kind=optimal
run mle configs/oracle_gcn.yaml method=mle train.patience=2
wait $learned
echo
echo "From MLE* (runs/oracle_mle/checkpoint_best), up to $steps steps each: start → the evaluation of lowest nll_valid;"
echo "KL(p*‖p) per token = NLL-test − H(p*) on the test set; target_gain = KL(p*‖p) − KL(p*‖q), q ∝ p·D, at that evaluation:"
python3 scripts/final_table.py --start --best --metrics kl_test,nll_oracle,nll_test,nll_valid,target_gain \
  "${runs[@]/#/runs/default/}"
if python3 scripts/plot.py compare runs/default/curves.png "${runs[@]/#/runs/default/}" \
     --metrics kl_test,nll_oracle,nll_test 2>/dev/null; then
  echo "curves: runs/default/curves.png"
else
  echo "(curves not drawn: python3 with matplotlib needed; scripts/plot.py compare)"
fi
