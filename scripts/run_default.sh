#!/usr/bin/env bash
# The embedded default, end to end on a fresh Debian machine: installs what is missing, builds the
# CPU backend (build-rel/, Release), MLE-trains the generator on the SeqGAN synthetic oracle task
# (configs/oracle_mle.yaml: evaluated every 250 steps on a validation split of fresh oracle samples,
# stopped early; its best-validation checkpoint is MLE*, runs/oracle_mle/checkpoint_best; reused
# when runs/oracle_mle holds a finished run) and beside it a second MLE of another seed (stage phi,
# runs/oracle_mle_phi), then continues from MLE*, two runs at a time on the
# two cores, the grid configs/grids/main_job.yaml (scripts/grid.py), 150 steps each at the configs'
# learning rate 1e-4 (chosen on validation, docs/results.md):
#   mle                   more maximum likelihood, stopped early on validation: the control;
#   gcn_guided+d_star     GCN with the optimal discriminator D* = p*/(p* + p), exact on the oracle,
#                         and the proposal q̂ ∝ p·D* token by token (docs/results.md);
#   gcn_p+d_star          GCN with D* and q̂ = p, the method as published;
#   gcn_guided+lr_d_other GCN with the learned D that carries the most of D*'s target (0.03 of 1 nat),
#                         the likelihood-ratio D (logit log p_φ − log p + b) with p_φ the second MLE,
#                         fixed, and the guided proposal;
# and prints one table: for each run its start → its evaluation of lowest nll_valid (every run
# chosen on the validation split, never the test set), with KL(p*‖p) per token (NLL-test minus the
# oracle's own NLL of the same test sequences), NLL-oracle, NLL-test and the target's gain
# KL(p*‖p) − KL(p*‖q), q ∝ p·D, of each run's D (docs/method.md, "The target, measured"), and each
# metric's change less the control's (grid.py --paired mle).
# Runs already done by the same command are kept (delete runs/default to train them again);
# arguments (KEY=VALUE) go to every run, e.g. train.steps=100 optim.schedule.total_steps=100.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --main-job
cmake -S . -B build-rel -DCOOPGEN_CUDA=OFF -DCOOPGEN_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-rel -j"$(nproc)" --target coopgen
grid=configs/grids/main_job.yaml
extra=()
for o in "$@"; do extra+=(--override "$o"); done
python3 scripts/grid.py run "$grid" --jobs 2 --bin build-rel/coopgen "${extra[@]}"
echo
echo "From MLE* (runs/oracle_mle/checkpoint_best): start → the evaluation of lowest nll_valid;"
echo "KL(p*‖p) per token = NLL-test − H(p*) on the test set; target_gain = KL(p*‖p) − KL(p*‖q), q ∝ p·D, at that evaluation:"
echo "paired Δ: the run's change from the start less the control's (mle), per metric:"
python3 scripts/grid.py table "$grid" --start --train ess --metrics kl_test,nll_oracle,nll_test,nll_valid,target_gain \
  --paired mle
if python3 scripts/grid.py plot "$grid" runs/default/curves --metrics kl_test,nll_oracle,nll_test 2>/dev/null; then
  echo "curves: runs/default/curves.png"
else
  echo "(curves not drawn: python3 with matplotlib needed; scripts/grid.py plot)"
fi
